"""``/_emulator/…``: tests reshape what GitHub knows, e.g. a user renaming themselves."""

import json
from pathlib import Path

import httpx
import pytest

from codeflow_github_emulator import EmulatorSettings, create_app
from codeflow_github_emulator.testing import SignIn, bearer


async def test_a_user_who_renames_themselves_keeps_their_id_and_token(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in()
    renamed = await client.post(
        "/_emulator/users",
        json={"id": 583231, "login": "octocat-renamed", "name": "Octo Renamed"},
    )
    assert renamed.status_code == 200
    me = (await client.get("/user", headers=bearer(token))).json()
    assert (me["id"], me["login"], me["name"]) == (583231, "octocat-renamed", "Octo Renamed")
    assert me["updated_at"] != "2024-06-01T12:00:00Z"
    assert me["email"] == "octocat@github.com"
    repos = (await client.get("/user/repos", headers=bearer(token))).json()
    assert all(repo["full_name"].startswith("octocat-renamed/") for repo in repos)
    assert (await client.get("/users/octocat")).status_code == 404


async def test_a_user_can_be_found_by_login_to_change_other_fields(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/_emulator/users", json={"login": "monalisa", "avatar_url": "http://img/mona.png"}
    )
    assert response.json()["id"] == 2_147_483_648
    profile = (await client.get("/users/monalisa")).json()
    assert profile["avatar_url"] == "http://img/mona.png"


async def test_a_new_user_can_be_added_and_sign_in(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    created = await client.post(
        "/_emulator/users",
        json={
            "id": 9_876_543_210,
            "login": "newcomer",
            "emails": [{"email": "new@example.com", "primary": True, "verified": True}],
        },
    )
    assert created.status_code == 201
    me = (await client.get("/user", headers=bearer(await sign_in("newcomer")))).json()
    assert me["id"] == 9_876_543_210
    assert me["name"] is None


async def test_a_login_cannot_be_taken_twice(client: httpx.AsyncClient) -> None:
    response = await client.post("/_emulator/users", json={"id": 583231, "login": "MonaLisa"})
    assert response.status_code == 422


async def test_an_invalid_user_is_refused_with_the_reasons(client: httpx.AsyncClient) -> None:
    response = await client.post("/_emulator/users", json={"id": 5, "login": ""})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["login"]


async def test_a_deleted_users_token_is_bad_credentials(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in()
    assert (await client.delete("/_emulator/users/583231")).status_code == 204
    assert (await client.get("/user", headers=bearer(token))).status_code == 401


async def test_revoked_tokens_stop_working(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    token = await sign_in()
    revoked = await client.delete("/_emulator/users/583231/tokens")
    assert revoked.json() == {"revoked": 1}
    assert (await client.get("/user", headers=bearer(token))).status_code == 401


async def test_reset_brings_back_the_fixtures_and_forgets_tokens(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in()
    await client.post("/_emulator/users", json={"id": 583231, "login": "someone-else"})
    assert (await client.post("/_emulator/reset")).status_code == 204
    users = (await client.get("/_emulator/users")).json()
    assert "octocat" in [user["login"] for user in users]
    assert (await client.get("/user", headers=bearer(token))).status_code == 401


async def test_repositories_can_be_added_and_removed(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in("monalisa"))
    added = await client.post(
        "/_emulator/repos", json={"id": 77, "owner_id": 2_147_483_648, "name": "new-repo"}
    )
    assert added.status_code == 201
    names = [repo["name"] for repo in (await client.get("/user/repos", headers=headers)).json()]
    assert names == ["new-repo", "smile"]
    assert (await client.delete("/_emulator/repos/77")).status_code == 204
    orphan = await client.post("/_emulator/repos", json={"id": 78, "owner_id": 1, "name": "x"})
    assert orphan.status_code == 422


async def test_a_token_can_be_had_without_the_browser(client: httpx.AsyncClient) -> None:
    issued = await client.post(
        "/_emulator/tokens", json={"login": "private-person", "scope": "read:user,user:email"}
    )
    assert issued.status_code == 201
    response = await client.get("/user", headers=bearer(issued.json()["access_token"]))
    assert response.json()["login"] == "private-person"
    assert response.headers["X-OAuth-Scopes"] == "read:user, user:email"


async def test_the_default_avatar_is_served_locally(client: httpx.AsyncClient) -> None:
    profile = (await client.get("/users/octocat")).json()
    avatar = await client.get(profile["avatar_url"])
    assert avatar.headers["content-type"] == "image/svg+xml"
    assert ">O</text>" in avatar.text


async def test_fixtures_can_come_from_a_json_file(tmp_path: Path) -> None:
    fixtures = {
        "users": [{"id": 1, "login": "solo", "email": "solo@example.com"}],
        "apps": [{"client_id": "c", "client_secret": "s", "callback_urls": ["https://x.test/cb"]}],
        "repos": [{"id": 5, "owner_id": 1, "name": "only"}],
    }
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(fixtures))
    app = create_app(EmulatorSettings(fixtures=path, auto_login="solo"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        authorized = await client.get("/login/oauth/authorize", params={"client_id": "c"})
        assert authorized.headers["location"].startswith("https://x.test/cb?code=")
        users = (await client.get("/_emulator/users")).json()
    assert [user["login"] for user in users] == ["solo"]


def test_settings_are_read_from_prefixed_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_EMULATOR_AUTO_LOGIN", "octocat")
    monkeypatch.setenv("GITHUB_EMULATOR_CODE_TTL_SECONDS", "30")
    settings = EmulatorSettings()
    assert (settings.auto_login, settings.code_ttl_seconds) == ("octocat", 30)


def test_fixtures_with_duplicate_logins_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps({"users": [{"id": 1, "login": "a"}, {"id": 2, "login": "A"}]}))
    with pytest.raises(ValueError, match="unique"):
        create_app(EmulatorSettings(fixtures=path))
