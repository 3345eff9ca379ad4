import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from codeflow_contracts import (
    Envelope,
    Message,
    UnknownMessageType,
    UserActive,
    UserCreated,
    envelope_model,
    new_envelope,
    parse_envelope,
    to_json_bytes,
)

USER_ID = "clq7z3x0k0000l308f3m9b2qa"
CREATED_AT = datetime(2024, 3, 14, 9, 26, 53, tzinfo=UTC)
MESSAGE_ID = UUID("3423c7f0-4315-4e2c-818a-2e9cf7f59c55")


def user_created() -> UserCreated:
    return UserCreated(user_id=USER_ID, github_id=583231, login="octocat", created_at=CREATED_AT)


def envelope_of_user_created(model: type[Envelope[Any]], message_type: str) -> Envelope[Any]:
    """An envelope built field by field (not by ``new_envelope``) around ``user_created()``."""
    return model(
        id=MESSAGE_ID,
        source="codeflow/auth",
        type=message_type,
        time=CREATED_AT,
        subject=USER_ID,
        data=user_created(),
    )


def test_a_new_envelope_is_about_the_user_of_its_message_with_a_fresh_id_and_time() -> None:
    before = datetime.now(UTC)

    envelope = new_envelope(user_created(), source="codeflow/auth")

    assert envelope.specversion == "1.0"
    assert envelope.datacontenttype == "application/json"
    assert envelope.type == "codeflow.user.created.v1"
    assert envelope.subject == USER_ID
    assert envelope.kafka_key == USER_ID.encode()
    assert envelope.id.version == 4
    assert before <= envelope.time <= datetime.now(UTC)
    assert envelope.time.tzinfo is not None


def test_two_new_envelopes_never_share_an_id() -> None:
    first = new_envelope(user_created(), source="codeflow/auth")
    second = new_envelope(user_created(), source="codeflow/auth")

    assert first.id != second.id


def test_a_new_envelope_takes_the_id_time_and_subject_it_is_given() -> None:
    envelope = new_envelope(
        user_created(), source="codeflow/auth", subject="someone", id=MESSAGE_ID, time=CREATED_AT
    )

    assert (envelope.id, envelope.time, envelope.subject) == (MESSAGE_ID, CREATED_AT, "someone")


def test_a_new_envelope_is_typed_by_its_payload() -> None:
    envelope = new_envelope(user_created(), source="codeflow/auth")

    assert type(envelope) is envelope_model(UserCreated)


def test_an_envelope_whose_type_does_not_name_its_payload_is_rejected() -> None:
    with pytest.raises(ValidationError, match="does not match its payload"):
        envelope_of_user_created(Envelope[UserCreated], "codeflow.user.active.v1")


def test_an_envelope_without_a_time_zone_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        new_envelope(user_created(), source="codeflow/auth", time=datetime(2024, 3, 14, 9, 26))


def test_an_envelope_is_immutable() -> None:
    envelope = new_envelope(user_created(), source="codeflow/auth")

    with pytest.raises(ValidationError, match="frozen"):
        envelope.subject = "someone-else"  # type: ignore[misc]


def test_an_envelope_survives_the_trip_through_json_bytes() -> None:
    envelope = new_envelope(user_created(), source="codeflow/auth")

    parsed = parse_envelope(to_json_bytes(envelope))

    assert parsed == envelope
    assert isinstance(parsed.data, UserCreated)


def test_json_bytes_keep_the_payload_of_an_envelope_typed_by_the_base_message() -> None:
    envelope = envelope_of_user_created(Envelope[Message], "codeflow.user.created.v1")

    assert json.loads(to_json_bytes(envelope))["data"]["login"] == "octocat"


def test_times_are_written_in_rfc_3339_with_their_offset() -> None:
    time = datetime(2024, 6, 21, 8, 45, tzinfo=timezone(timedelta(hours=2)))
    envelope = new_envelope(user_created(), source="codeflow/auth", time=time)

    document = json.loads(to_json_bytes(envelope))

    assert document["time"] == "2024-06-21T08:45:00+02:00"
    assert document["data"]["created_at"] == "2024-03-14T09:26:53Z"


def test_parsing_picks_the_payload_model_by_type_from_str_bytes_or_a_mapping() -> None:
    document = json.loads(to_json_bytes(new_envelope(user_created(), source="codeflow/auth")))

    for raw in (json.dumps(document), json.dumps(document).encode(), document):
        assert isinstance(parse_envelope(raw).data, UserCreated)


def test_a_newer_producer_s_unknown_fields_are_ignored() -> None:
    document = json.loads(to_json_bytes(new_envelope(user_created(), source="codeflow/auth")))
    document["data"]["avatar_colour"] = "teal"
    document["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    envelope = parse_envelope(document)

    assert envelope.data == user_created()


def test_an_unknown_type_is_reported_as_such() -> None:
    document = json.loads(to_json_bytes(new_envelope(user_created(), source="codeflow/auth")))
    document["type"] = "codeflow.user.created.v2"

    with pytest.raises(UnknownMessageType, match=r"codeflow\.user\.created\.v2") as raised:
        parse_envelope(document)

    assert isinstance(raised.value, ValueError)
    assert raised.value.message_type == "codeflow.user.created.v2"


def test_an_envelope_without_a_type_is_invalid_not_unknown() -> None:
    document = json.loads(to_json_bytes(new_envelope(user_created(), source="codeflow/auth")))
    del document["type"]

    with pytest.raises(ValidationError, match="type"):
        parse_envelope(document)


def test_a_payload_that_does_not_fit_its_type_is_invalid() -> None:
    active = UserActive(user_id=USER_ID, active_at=CREATED_AT)
    document = json.loads(to_json_bytes(new_envelope(active, source="codeflow/auth")))
    document["type"] = "codeflow.user.created.v1"

    with pytest.raises(ValidationError, match="github_id"):
        parse_envelope(document)


def test_bytes_that_are_not_json_are_a_value_error() -> None:
    with pytest.raises(ValueError, match="Invalid JSON"):
        parse_envelope(b"not json")


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_an_envelope_carries_the_w3c_traceparent_of_the_cloudevents_tracing_extension() -> None:
    envelope = new_envelope(user_created(), source="codeflow/auth", traceparent=TRACEPARENT)

    payload = json.loads(to_json_bytes(envelope))

    assert payload["traceparent"] == TRACEPARENT
    assert parse_envelope(to_json_bytes(envelope)).traceparent == TRACEPARENT


def test_an_envelope_without_a_trace_context_leaves_the_attribute_out_of_its_json() -> None:
    envelope = new_envelope(user_created(), source="codeflow/auth")

    assert envelope.traceparent is None
    assert "traceparent" not in json.loads(to_json_bytes(envelope))


@pytest.mark.parametrize(
    "traceparent",
    ["", "not-a-traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"],
)
def test_a_malformed_traceparent_is_refused(traceparent: str) -> None:
    with pytest.raises(ValidationError):
        new_envelope(user_created(), source="codeflow/auth", traceparent=traceparent)
