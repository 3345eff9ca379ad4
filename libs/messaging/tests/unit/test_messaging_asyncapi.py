from __future__ import annotations

import json
from typing import Any

from faststream.specification import AsyncAPI

from codeflow_contracts import UserActive, UserCreated, UserDataDeleted
from codeflow_messaging import Handles, ReliableConsumer, create_broker
from codeflow_messaging.asyncapi import declare_publications, envelopes_schema


async def _ignore(session: Any, envelopes: Any) -> None:
    return None


def test_an_envelopes_schema_pins_each_type_and_has_no_references() -> None:
    schema = envelopes_schema([UserCreated, UserActive], title="in")
    assert [v["properties"]["type"]["const"] for v in schema["anyOf"]] == [
        "codeflow.user.created.v1",
        "codeflow.user.active.v1",
    ]
    assert "$ref" not in json.dumps(schema)


def test_the_asyncapi_document_shows_a_consumers_envelopes_and_the_declared_publications() -> None:
    broker = create_broker("127.0.0.1:9", client_id="docs")
    ReliableConsumer(
        group_id="profiles",
        topics=["auth.user-events"],
        handlers=[Handles(UserCreated, _ignore), Handles(UserActive, _ignore)],
        sessions=None,  # type: ignore[arg-type]  # never used: nothing is consumed here
    ).subscribe(broker)
    declare_publications(broker, [UserDataDeleted], service="profiles")

    document = json.loads(
        AsyncAPI(broker, title="profiles", schema_version="3.0.0").to_specification().to_json()
    )

    assert set(document["channels"]) == {
        "profiles:auth.user-events",
        "profiles:user-deletion-acks",
    }
    schemas = json.dumps(document["components"]["schemas"])
    for message_type in (
        "codeflow.user.created.v1",
        "codeflow.user.active.v1",
        "codeflow.user.data-deleted.v1",
    ):
        assert f'"const": "{message_type}"' in schemas
