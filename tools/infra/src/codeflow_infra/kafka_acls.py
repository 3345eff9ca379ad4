"""Who may do what on Kafka: each service's principal and the ACLs it needs, from one table.

The table follows the contracts: a service may write the topics its outbox publishes to and
the dead-letter topics of its own consumer group, and may read the topics it consumes, as
its own group. Nobody but the janitor may write ``janitor.user-deletion-commands``, so a
service (or anyone holding its credentials) can't ask the others to erase a person.

The same table is applied to the local broker in secure mode (:func:`apply_acls`), printed
as ``kafka-acls.sh`` commands for a real cluster (``python -m codeflow_infra kafka-acls``),
and documented in deploy/README.md ("Kafka security").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequest

from codeflow_contracts.topics import (
    ALL_TOPICS,
    REPOSITORY_EVENTS,
    USER_DELETION_ACKS,
    USER_DELETION_COMMANDS,
    USER_EVENTS,
    dead_letter_topic,
)

ADMIN = "admin"
"""The broker's super user: creates topics, SCRAM users and ACLs, replays dead letters."""

ResourceType = Literal["TOPIC", "GROUP"]
Operation = Literal["READ", "WRITE", "CREATE", "DESCRIBE"]


@dataclass(frozen=True)
class ServiceAccess:
    """What one service does on Kafka, as its contracts and consumers say."""

    principal: str
    group: str
    """Its consumer group (the service's name unless configured otherwise)."""
    writes: tuple[str, ...]
    """The topics its outbox publishes to."""
    reads: tuple[str, ...]
    """The topics its consumer group reads."""

    @property
    def dead_letter_topics(self) -> tuple[str, ...]:
        """Where its consumers set aside what they gave up on: one per topic read."""
        return tuple(dead_letter_topic(topic, self.group) for topic in self.reads)


SERVICES: tuple[ServiceAccess, ...] = (
    ServiceAccess("auth", "auth", writes=(USER_EVENTS,), reads=(USER_DELETION_COMMANDS,)),
    ServiceAccess("profiles", "profiles", writes=(USER_DELETION_ACKS,), reads=(USER_EVENTS,)),
    ServiceAccess(
        "repositories",
        "repositories",
        writes=(REPOSITORY_EVENTS, USER_DELETION_ACKS),
        reads=(USER_EVENTS,),
    ),
    ServiceAccess(
        "janitor",
        "janitor",
        writes=(USER_DELETION_COMMANDS,),
        reads=(USER_EVENTS, USER_DELETION_ACKS),
    ),
)
"""Every service's principal (``User:<name>``) and what it may do."""

PRINCIPALS: tuple[str, ...] = (ADMIN, *(service.principal for service in SERVICES))
"""Every SCRAM user of a CodeFlow cluster; ``admin`` is the super user."""


def all_topics() -> tuple[str, ...]:
    """Every topic a CodeFlow cluster needs, dead-letter topics included (an admin creates
    them up front where services may not)."""
    dead_letters = (topic for service in SERVICES for topic in service.dead_letter_topics)
    return tuple(dict.fromkeys((*ALL_TOPICS, *dead_letters)))


@dataclass(frozen=True)
class Acl:
    """One ALLOW binding on a literal resource, from any host."""

    principal: str
    resource_type: ResourceType
    resource: str
    operation: Operation

    @property
    def kafka_principal(self) -> str:
        return f"User:{self.principal}"


def acls(services: Iterable[ServiceAccess] = SERVICES) -> list[Acl]:
    """The ACLs of ``services``: the least each needs.

    - WRITE on the topics it publishes to and on its own dead-letter topics (WRITE implies
      DESCRIBE, and, since Kafka 2.8, the idempotent producer's IDEMPOTENT_WRITE);
    - CREATE on its own dead-letter topics, which the dead-letter publisher creates on first
      use where the broker auto-creates topics;
    - READ on the topics it consumes and on its consumer group (READ implies DESCRIBE: the
      offsets and log starts the consumer asks for).
    """
    found: list[Acl] = []
    for service in services:
        name = service.principal
        found += [Acl(name, "TOPIC", topic, "WRITE") for topic in service.writes]
        for topic in service.dead_letter_topics:
            found += [Acl(name, "TOPIC", topic, "WRITE"), Acl(name, "TOPIC", topic, "CREATE")]
        found += [Acl(name, "TOPIC", topic, "READ") for topic in service.reads]
        found.append(Acl(name, "GROUP", service.group, "READ"))
    return found


def kafka_acls_commands(
    services: Iterable[ServiceAccess] = SERVICES, *, config: str = "admin.properties"
) -> list[str]:
    """The ``kafka-acls.sh`` commands that grant :func:`acls` on a real cluster, one per
    principal, resource type and operation."""
    commands = []
    grouped: dict[tuple[str, ResourceType, Operation], list[str]] = {}
    for acl in acls(services):
        grouped.setdefault((acl.principal, acl.resource_type, acl.operation), []).append(
            acl.resource
        )
    for (principal, resource_type, operation), resources in grouped.items():
        option = "--topic" if resource_type == "TOPIC" else "--group"
        names = " ".join(f"{option} {resource}" for resource in resources)
        commands.append(
            f"kafka-acls.sh --bootstrap-server $KAFKA_BOOTSTRAP_SERVERS "
            f"--command-config {config} --add --allow-principal User:{principal} "
            f"--operation {operation.capitalize()} {names}"
        )
    return commands


# The codes of Kafka's ACL protocol (org.apache.kafka.common.acl and .resource).
_RESOURCE_TYPES = {"TOPIC": 2, "GROUP": 3}
_OPERATIONS = {"READ": 3, "WRITE": 4, "CREATE": 5, "DESCRIBE": 8}
_LITERAL = 3
_ALLOW = 3


def _create_request(acl: Acl) -> Any:
    return CreateAclsRequest(
        resource_type=_RESOURCE_TYPES[acl.resource_type],
        resource_name=acl.resource,
        resource_pattern_type_filter=_LITERAL,
        principal=acl.kafka_principal,
        host="*",
        operation=_OPERATIONS[acl.operation],
        permission_type=_ALLOW,
    )


async def apply_acls(admin: AIOKafkaAdminClient, bindings: Iterable[Acl]) -> int:
    """Create ``bindings`` through a started admin client of a super user; return how many.

    aiokafka has no ``create_acls``, but speaks Kafka's CreateAcls request; creating a
    binding that exists already is no error, so this can run again.
    """
    count = 0
    for acl in bindings:
        response = await admin._send_request(_create_request(acl))
        for error_code, error_message in response.creation_responses:
            if error_code != 0:
                raise for_code(error_code)(f"{acl}: {error_message}")
        count += 1
    return count
