"""``/_emulator/repos/{id}/…`` and token revocation: what changes names and access on GitHub."""

import httpx
import pytest

from codeflow_github_emulator.testing import BAD_CREDENTIALS, OCTO_ORG_ID, SignIn, bearer


async def test_a_renamed_repository_keeps_its_id_and_changes_its_full_name(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    renamed = await client.post("/_emulator/repos/2200000001/rename", json={"name": "linguist-2"})
    assert renamed.status_code == 200
    assert renamed.json()["full_name"] == "octocat/linguist-2"
    repo = (await client.get("/repositories/2200000001", headers=bearer(await sign_in()))).json()
    assert (repo["id"], repo["name"], repo["full_name"]) == (
        2_200_000_001,
        "linguist-2",
        "octocat/linguist-2",
    )
    assert repo["html_url"].endswith("/octocat/linguist-2")
    assert repo["updated_at"] == "2025-01-01T00:00:00Z"


@pytest.mark.parametrize("name", ["SPOON-knife", ""], ids=["taken", "empty"])
async def test_a_name_the_owner_already_uses_or_an_empty_one_is_refused(
    client: httpx.AsyncClient, name: str
) -> None:
    refused = await client.post("/_emulator/repos/2200000001/rename", json={"name": name})
    assert refused.status_code == 422


async def test_a_transferred_repository_keeps_its_id_under_its_new_owner(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    moved = await client.post("/_emulator/repos/1296269/transfer", json={"new_owner": "octo-org"})
    assert moved.json()["full_name"] == "octo-org/Hello-World"
    octocat = bearer(await sign_in(scope="repo"))
    names = [r["full_name"] for r in (await client.get("/user/repos", headers=octocat)).json()]
    assert "octocat/Hello-World" not in names
    member = bearer(await sign_in("private-person", scope="repo"))
    repo = (await client.get("/repositories/1296269", headers=member)).json()
    assert (repo["full_name"], repo["owner"]["id"]) == ("octo-org/Hello-World", OCTO_ORG_ID)
    by_id = await client.post(
        "/_emulator/repos/1296269/transfer", json={"new_owner_id": 2_147_483_648}
    )
    assert by_id.json()["full_name"] == "monalisa/Hello-World"


async def test_a_transfer_to_nobody_or_onto_a_taken_name_is_refused(
    client: httpx.AsyncClient,
) -> None:
    nobody = await client.post("/_emulator/repos/1296269/transfer", json={"new_owner": "ghost"})
    assert nobody.status_code == 422
    await client.post("/_emulator/repos", json={"id": 5, "owner_id": OCTO_ORG_ID, "name": "x"})
    await client.post("/_emulator/repos/5/rename", json={"name": "hello-world"})
    taken = await client.post("/_emulator/repos/1296269/transfer", json={"new_owner": "octo-org"})
    assert taken.status_code == 422
    missing = await client.post("/_emulator/repos/1/transfer", json={"new_owner": "octo-org"})
    assert missing.status_code == 404


async def test_a_repository_made_private_disappears_for_those_without_access(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    stranger = bearer(await sign_in("monalisa", scope="repo"))
    assert (await client.get("/repositories/1296269", headers=stranger)).status_code == 200
    changed = await client.post(
        "/_emulator/repos/1296269/visibility", json={"visibility": "private"}
    )
    assert changed.json()["private"] is True
    assert (await client.get("/repositories/1296269", headers=stranger)).status_code == 404
    owner = bearer(await sign_in(scope="repo"))
    shown = (await client.get("/repositories/1296269", headers=owner)).json()
    assert shown["visibility"] == "private"
    wrong = await client.post("/_emulator/repos/1296269/visibility", json={"visibility": "x"})
    assert wrong.status_code == 422


async def test_one_revoked_token_is_bad_credentials_and_the_others_still_work(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    revoked, kept = await sign_in(), await sign_in()
    assert (await client.delete(f"/_emulator/tokens/{revoked}")).status_code == 204
    refused = await client.get("/repositories/1296269", headers=bearer(revoked))
    assert refused.status_code == 401
    assert refused.json() == BAD_CREDENTIALS
    assert (await client.get("/user", headers=bearer(kept))).status_code == 200
    assert (await client.delete(f"/_emulator/tokens/{revoked}")).status_code == 404


async def test_an_expired_token_is_bad_credentials(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    await client.post(
        "/_emulator/apps",
        json={
            "client_id": "codeflow-dev-client",
            "client_secret": "codeflow-dev-secret",
            "callback_urls": ["http://127.0.0.1/"],
            "expire_user_tokens": True,
        },
    )
    token = await sign_in()
    await client.post("/_emulator/clock", json={"seconds": 28_800})
    response = await client.get("/user/repos", headers=bearer(token))
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS
