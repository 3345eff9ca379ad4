"""Settings, the app's shape and the API's schemas, without any I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from codeflow_profiles.config import ProfilesSettings
from codeflow_profiles.consumers import GROUP_ID, TOPICS
from codeflow_profiles.main import create_app
from codeflow_profiles.models import UserProfile
from codeflow_profiles.profiles.schemas import MyProfile, PublicProfile


def test_settings_read_the_profiles_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFILES_DATABASE_URL", "postgresql://db.example/codeflow_profiles")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    settings = ProfilesSettings()
    assert settings.database_url == "postgresql://db.example/codeflow_profiles"
    assert settings.kafka_bootstrap_servers == "kafka.example:9092"


def test_the_app_serves_its_api_under_profiles_and_builds_nothing_until_started() -> None:
    app = create_app(ProfilesSettings(database_url="postgresql://nowhere.invalid/x"))
    paths = app.openapi()["paths"]
    assert set(paths) == {"/profiles/me", "/profiles/{username}"}
    assert app.openapi_url == "/profiles/openapi.json"
    assert not hasattr(app.state, "runtime")


def test_the_consumer_reads_user_events_as_the_profiles_group() -> None:
    assert GROUP_ID == "profiles"
    assert TOPICS == ("auth.user-events",)


def test_the_public_view_carries_no_user_id_and_no_activity() -> None:
    assert set(PublicProfile.model_fields) == {"username", "github_id", "created_at"}
    when = datetime(2026, 1, 1, tzinfo=UTC)
    profile = UserProfile(
        id=uuid4(),
        user_id="u1",
        github_id=1,
        username="amy",
        last_active_at=when,
        identity_updated_at=when,
        created_at=when,
        updated_at=when,
    )
    public = PublicProfile.model_validate(profile).model_dump()
    assert "u1" not in public.values()
    assert MyProfile.model_validate(profile).user_id == "u1"
