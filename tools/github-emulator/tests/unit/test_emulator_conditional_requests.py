"""Conditional requests: weak ETags, 304 Not Modified, and what a 304 costs (nothing)."""

import httpx

from codeflow_github_emulator.testing import SignIn, bearer


async def test_every_get_answers_with_a_weak_etag(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in(scope="repo user"))
    for path in ("/user", "/user/emails", "/user/repos", "/repositories/1296269", "/users/octocat"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200
        assert response.headers["ETag"].startswith('W/"'), path


async def test_a_matching_if_none_match_is_not_modified_and_costs_nothing(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in(scope="repo"))
    first = await client.get("/user/repos", headers=headers)
    assert first.headers["X-RateLimit-Remaining"] == "4999"
    again = await client.get(
        "/user/repos", headers=headers | {"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["X-RateLimit-Remaining"] == "4999"
    assert again.headers["X-RateLimit-Used"] == "1"
    counts = (await client.get("/_emulator/requests")).json()
    assert counts["GET /user/repos"] == {"200": 1, "304": 1}


async def test_the_etag_changes_when_what_the_body_shows_changes(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in(scope="repo"))
    before = await client.get("/repositories/1296269", headers=headers)
    await client.post("/_emulator/repos/1296269/rename", json={"name": "Hello-Renamed"})
    after = await client.get(
        "/repositories/1296269", headers=headers | {"If-None-Match": before.headers["ETag"]}
    )
    assert after.status_code == 200
    assert after.json()["full_name"] == "octocat/Hello-Renamed"
    assert after.headers["ETag"] != before.headers["ETag"]


async def test_an_etag_from_another_token_earns_no_304(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    first = await client.get("/repositories/1296269", headers=bearer(await sign_in()))
    other = await client.get(
        "/repositories/1296269",
        headers=bearer(await sign_in()) | {"If-None-Match": first.headers["ETag"]},
    )
    assert other.status_code == 200
    assert other.json() == first.json()


async def test_if_none_match_takes_a_list_and_strong_forms_of_the_tag(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in())
    tag = (await client.get("/user", headers=headers)).headers["ETag"]
    listed = await client.get(
        "/user", headers=headers | {"If-None-Match": f'"other", {tag.removeprefix("W/")}'}
    )
    assert listed.status_code == 304


async def test_pages_have_their_own_etags(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    headers = bearer(await sign_in())
    first = await client.get("/user/repos?per_page=2", headers=headers)
    second = await client.get("/user/repos?per_page=2&page=2", headers=headers)
    assert first.headers["ETag"] != second.headers["ETag"]
    unchanged = await client.get(
        "/user/repos?per_page=2", headers=headers | {"If-None-Match": first.headers["ETag"]}
    )
    assert unchanged.status_code == 304
    assert unchanged.headers["Link"] == first.headers["Link"]
