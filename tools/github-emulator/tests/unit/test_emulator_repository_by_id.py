"""``GET /repositories/{id}``: a repository by the id that renames and transfers keep."""

import httpx

from codeflow_github_emulator.testing import OCTO_ORG_ID, SignIn, bearer

NOT_FOUND = {
    "message": "Not Found",
    "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository",
    "status": "404",
}


async def test_a_repository_is_found_by_its_id(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    response = await client.get("/repositories/2200000001", headers=bearer(await sign_in()))
    assert response.status_code == 200
    repo = response.json()
    assert (repo["id"], repo["full_name"]) == (2_200_000_001, "octocat/linguist")
    assert repo["owner"]["id"] == 583231
    assert repo["permissions"]["admin"] is True
    assert {"network_count", "subscribers_count"} <= set(repo)


async def test_a_private_repository_of_someone_else_is_not_found_rather_than_forbidden(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    response = await client.get(
        "/repositories/3000000101", headers=bearer(await sign_in(scope="repo"))
    )
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert response.headers["X-RateLimit-Resource"] == "core"


async def test_a_private_repository_needs_the_repo_scope_even_for_its_owner(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    without = await client.get("/repositories/132935648", headers=bearer(await sign_in()))
    with_repo = await client.get(
        "/repositories/132935648", headers=bearer(await sign_in(scope="repo"))
    )
    assert without.status_code == 404
    assert with_repo.status_code == 200
    assert with_repo.json()["visibility"] == "private"


async def test_collaborators_and_organisation_members_see_private_repositories(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in("private-person", scope="repo"))
    shared = await client.get("/repositories/132935648", headers=headers)
    roadmap = await client.get("/repositories/1296301", headers=headers)
    assert shared.json()["permissions"]["push"] is True
    assert roadmap.json()["permissions"]["push"] is False
    assert roadmap.json()["organization"]["id"] == OCTO_ORG_ID


async def test_a_public_repository_can_be_read_without_a_token(
    client: httpx.AsyncClient,
) -> None:
    public = await client.get("/repositories/1296269")
    private = await client.get("/repositories/132935648")
    assert public.status_code == 200
    assert public.json()["permissions"]["admin"] is False
    assert private.status_code == 404


async def test_a_deleted_repository_is_not_found(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in())
    assert (await client.delete("/_emulator/repos/1296269")).status_code == 204
    response = await client.get("/repositories/1296269", headers=headers)
    assert response.status_code == 404


async def test_a_bad_token_is_bad_credentials_even_for_a_public_repository(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/repositories/1296269", headers=bearer("gho_" + "x" * 36))
    assert response.status_code == 401
    assert response.json()["message"] == "Bad credentials"
