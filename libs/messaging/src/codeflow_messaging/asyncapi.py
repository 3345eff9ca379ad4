"""What a service's AsyncAPI document says about its messages.

FastStream generates the document from a broker's subscribers and publishers. A
:class:`ReliableConsumer` reads raw records (so that it can dead-letter what doesn't parse),
which leaves FastStream nothing to describe; these helpers hand it the envelopes' JSON Schemas
instead, without changing how anything is validated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Annotated, Any

from faststream.kafka import KafkaBroker
from pydantic import WithJsonSchema

from codeflow_contracts import Message
from codeflow_contracts.schemas import envelope_json_schema


def envelopes_schema(messages: Iterable[type[Message]], *, title: str) -> dict[str, Any]:
    """One JSON Schema accepting the envelope of any of ``messages``, with no ``$ref``s."""
    variants = []
    for message in messages:
        schema = envelope_json_schema(message)
        schema.pop("$schema", None)
        variants.append(_inlined(schema))
    if len(variants) == 1:
        return {**variants[0], "title": title}
    return {"title": title, "anyOf": variants}


def documented_as(messages: Iterable[type[Message]], *, title: str) -> Any:
    """A type that validates anything but documents itself as those messages' envelopes."""
    return Annotated[Any, WithJsonSchema(envelopes_schema(messages, title=title))]


def declare_publications(
    broker: KafkaBroker, messages: Iterable[type[Message]], *, service: str
) -> None:
    """Describe, per topic, what the service's outbox relay publishes.

    The relay publishes through its own producer; these publisher declarations exist so that
    the AsyncAPI document lists the service's outgoing messages.
    """
    by_topic: dict[str, list[type[Message]]] = defaultdict(list)
    for message in messages:
        by_topic[message.topic].append(message)
    for topic, published in by_topic.items():
        names = ", ".join(m.__name__ for m in published)
        broker.publisher(
            topic,
            title=f"{service}:{topic}",
            description=f"Published by {service} through its outbox: {names}.",
            schema=documented_as(published, title=f"{service}:{topic}:Envelope"),
        )


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(dict(definitions[ref.removeprefix("#/$defs/")]))
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
