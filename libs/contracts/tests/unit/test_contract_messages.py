from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from codeflow_contracts import (
    MESSAGE_TYPES,
    DeleteUserData,
    Message,
    RepositoryMonitoringChanged,
    UserCreated,
    UserDataDeleted,
    UserDeletionRequested,
    UserUpdated,
)
from codeflow_contracts.topics import ALL_TOPICS

USER_ID = "clq7z3x0k0000l308f3m9b2qa"
AT = datetime(2024, 3, 14, 9, 26, 53, tzinfo=UTC)
DELETION_ID = "9d0ba97f-813e-4b3d-b474-3fe424e388ee"
PERSONAL_FIELDS = {"email", "name", "image", "avatar_url", "access_token", "refresh_token"}


def repository_change(**overrides: Any) -> RepositoryMonitoringChanged:
    fields: dict[str, Any] = {
        "user_id": USER_ID,
        "repository_id": UUID("a49df3e6-ef4d-4c31-9eda-d80191c1bb7a"),
        "github_id": 1296269,
        "full_name": "octocat/Hello-World",
        "is_active": True,
        "change": "monitored",
        "changed_at": AT,
    }
    return RepositoryMonitoringChanged(**(fields | overrides))


def test_every_message_type_is_versioned_and_registered_under_its_own_type() -> None:
    for message_type, message in MESSAGE_TYPES.items():
        assert message.message_type == message_type
        assert message_type.startswith("codeflow.")
        assert message_type.rsplit(".", 1)[1] == "v1"


def test_every_message_travels_on_a_known_topic() -> None:
    for message in MESSAGE_TYPES.values():
        assert message.topic in ALL_TOPICS


def test_every_field_of_every_message_is_documented() -> None:
    undocumented = [
        f"{message.__name__}.{name}"
        for message in MESSAGE_TYPES.values()
        for name, field in message.model_fields.items()
        if not field.description
    ]

    assert undocumented == []


def test_every_message_is_documented() -> None:
    for message in MESSAGE_TYPES.values():
        assert message.__doc__
        assert message.model_json_schema().get("description")


def test_no_message_carries_personal_data_beyond_the_user_id_and_login() -> None:
    for message in MESSAGE_TYPES.values():
        assert PERSONAL_FIELDS.isdisjoint(message.model_fields), message.__name__


def test_acknowledgements_carry_nothing_personal_but_the_user_id() -> None:
    assert set(UserDataDeleted.model_fields) == {"user_id", "deletion_id", "service", "deleted_at"}


def test_messages_are_immutable() -> None:
    created = UserCreated(user_id=USER_ID, github_id=1, login="octocat", created_at=AT)

    with pytest.raises(ValidationError, match="frozen"):
        created.login = "hubot"  # type: ignore[misc]


@pytest.mark.parametrize("github_id", [0, -1, 2**63])
def test_github_ids_are_positive_64_bit_integers(github_id: int) -> None:
    with pytest.raises(ValidationError, match="github_id"):
        UserCreated(user_id=USER_ID, github_id=github_id, login="octocat", created_at=AT)


def test_github_ids_beyond_32_bits_are_accepted() -> None:
    created = UserCreated(user_id=USER_ID, github_id=2**40, login="octocat", created_at=AT)

    assert created.github_id == 2**40


@pytest.mark.parametrize("user_id", ["", "has space", "semi;colon"])
def test_a_user_id_must_be_a_plain_identifier(user_id: str) -> None:
    with pytest.raises(ValidationError, match="user_id"):
        UserCreated(user_id=user_id, github_id=1, login="octocat", created_at=AT)


def test_timestamps_without_a_time_zone_are_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        UserCreated(user_id=USER_ID, github_id=1, login="octocat", created_at=datetime(2024, 1, 1))


def test_a_user_update_names_what_changed_each_at_most_once() -> None:
    def update(changed: list[str]) -> UserUpdated:
        return UserUpdated.model_validate(
            {
                "user_id": USER_ID,
                "github_id": 1,
                "login": "octocat",
                "changed": changed,
                "updated_at": AT,
            }
        )

    assert update(["login", "email"]).changed == ("login", "email")
    for invalid in ([], ["login", "login"], ["password"]):
        with pytest.raises(ValidationError, match="changed"):
            update(invalid)


@pytest.mark.parametrize(
    ("model", "fields", "refused"),
    [
        pytest.param(
            DeleteUserData,
            {"reason": "spite", "requested_at": AT},
            "reason",
            id="a deletion command states one of the known reasons",
        ),
        pytest.param(
            UserDataDeleted,
            {"service": "janitor", "deleted_at": AT},
            "service",
            id="only services that hold user data acknowledge a deletion",
        ),
    ],
)
def test_a_deletion_message_takes_only_the_known_reasons_and_services(
    model: type[Message], fields: dict[str, Any], refused: str
) -> None:
    with pytest.raises(ValidationError, match=refused):
        model.model_validate({"user_id": USER_ID, "deletion_id": DELETION_ID, **fields})


def test_a_deletion_request_may_name_the_deletion_and_one_without_an_id_still_parses() -> None:
    named = UserDeletionRequested.model_validate(
        {
            "user_id": USER_ID,
            "requested_at": AT,
            "deletion_id": DELETION_ID,
        }
    )
    unnamed = UserDeletionRequested.model_validate({"user_id": USER_ID, "requested_at": AT})

    assert named.deletion_id == UUID(DELETION_ID)
    assert unnamed.deletion_id is None


def test_a_repository_change_says_whether_monitoring_is_active_after_it() -> None:
    assert repository_change(change="monitored", is_active=False).is_active is False
    assert repository_change(change="activated", is_active=True).is_active is True
    for change, is_active in (("activated", False), ("deactivated", True), ("deleted", True)):
        with pytest.raises(ValidationError, match="is_active"):
            repository_change(change=change, is_active=is_active)


@pytest.mark.parametrize("full_name", ["Hello-World", "octocat/", "/Hello-World", "a/b/c"])
def test_a_repository_full_name_is_owner_slash_name(full_name: str) -> None:
    with pytest.raises(ValidationError, match="full_name"):
        repository_change(full_name=full_name)
