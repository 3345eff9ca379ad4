"""JSON Schema export: one schema per message type, of the whole envelope around it."""

import json
from pathlib import Path
from typing import Any

from codeflow_contracts.envelope import envelope_model
from codeflow_contracts.message import Message
from codeflow_contracts.registry import MESSAGE_TYPES

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def envelope_json_schema(message: type[Message]) -> dict[str, Any]:
    """The JSON Schema of an envelope carrying `message`, with its `type` pinned."""
    schema = envelope_model(message).model_json_schema()
    schema["description"] = (
        f"A {message.__name__} in its CloudEvents envelope, published on `{message.topic}`."
    )
    type_attribute = schema["properties"]["type"]
    type_attribute.pop("examples", None)
    type_attribute["const"] = message.message_type
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}


def render_schemas() -> dict[str, str]:
    """Each schema file's name and its content, serialized deterministically."""
    return {
        f"{message_type}.json": json.dumps(envelope_json_schema(message), indent=2, sort_keys=True)
        + "\n"
        for message_type, message in MESSAGE_TYPES.items()
    }


def export_schemas(directory: Path) -> list[Path]:
    """Write every message's schema into `directory`; return the files written.

    Schema files of types that no longer exist (`codeflow.*.json` not written by this
    export) are removed, so the directory always mirrors the models.
    """
    directory.mkdir(parents=True, exist_ok=True)
    rendered = render_schemas()
    for stale in directory.glob("codeflow.*.json"):
        if stale.name not in rendered:
            stale.unlink()
    written = []
    for name, content in sorted(rendered.items()):
        path = directory / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
