"""``GET /user/repos``: GitHub's repository shape, visibility by scope, sorting, pages."""

import httpx

from codeflow_github_emulator.testing import SignIn, bearer


async def test_repositories_have_githubs_shape_and_big_ids(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    response = await client.get("/user/repos", headers=bearer(await sign_in(scope="repo")))
    repos = {repo["name"]: repo for repo in response.json()}
    linguist = repos["linguist"]
    assert linguist["id"] == 2_200_000_001
    assert linguist["full_name"] == "octocat/linguist"
    assert linguist["owner"]["login"] == "octocat"
    assert linguist["owner"]["id"] == 583231
    assert linguist["visibility"] == "public"
    assert linguist["private"] is False
    assert linguist["html_url"] == "http://127.0.0.1:9000/octocat/linguist"
    assert linguist["url"] == "http://127.0.0.1:9000/repos/octocat/linguist"
    assert linguist["pushed_at"].endswith("Z")
    assert repos["Hello-World"]["node_id"] == "MDEwOlJlcG9zaXRvcnkxMjk2MjY5"
    assert repos["Hello-World"]["default_branch"] == "master"
    assert repos["boysenberry-repo-1"]["visibility"] == "private"


async def test_private_repositories_need_the_repo_scope(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    without = await client.get("/user/repos", headers=bearer(await sign_in(scope="read:user")))
    with_repo = await client.get("/user/repos", headers=bearer(await sign_in(scope="repo")))
    assert len(without.json()) == 7
    assert len(with_repo.json()) == 8
    assert all(not repo["private"] for repo in without.json())


async def test_repositories_are_sorted_by_full_name_by_default(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    repos = (await client.get("/user/repos", headers=bearer(await sign_in()))).json()
    names = [repo["name"] for repo in repos]
    assert names == sorted(names, key=str.lower)


async def test_other_sorts_default_to_descending(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in())
    newest_first = (await client.get("/user/repos?sort=created", headers=headers)).json()
    oldest_first = (
        await client.get("/user/repos?sort=created&direction=asc", headers=headers)
    ).json()
    created = [repo["created_at"] for repo in newest_first]
    assert created == sorted(created, reverse=True)
    assert newest_first == oldest_first[::-1]


async def test_pages_are_linked_like_githubs(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    headers = bearer(await sign_in(scope="repo"))
    first = await client.get("/user/repos?per_page=3", headers=headers)
    assert len(first.json()) == 3
    assert first.headers["link"] == (
        '<http://127.0.0.1:9000/user/repos?per_page=3&page=2>; rel="next", '
        '<http://127.0.0.1:9000/user/repos?per_page=3&page=3>; rel="last"'
    )
    middle = await client.get("/user/repos?per_page=3&page=2", headers=headers)
    assert middle.headers["link"] == (
        '<http://127.0.0.1:9000/user/repos?per_page=3&page=1>; rel="prev", '
        '<http://127.0.0.1:9000/user/repos?per_page=3&page=3>; rel="next", '
        '<http://127.0.0.1:9000/user/repos?per_page=3&page=3>; rel="last", '
        '<http://127.0.0.1:9000/user/repos?per_page=3&page=1>; rel="first"'
    )
    last = await client.get("/user/repos?per_page=3&page=3", headers=headers)
    assert len(last.json()) == 2
    assert 'rel="next"' not in last.headers["link"]
    names = [r["name"] for page in (first, middle, last) for r in page.json()]
    assert len(set(names)) == 8


async def test_a_single_page_has_no_link_header(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    response = await client.get("/user/repos", headers=bearer(await sign_in()))
    assert "link" not in response.headers


async def test_per_page_is_capped_at_one_hundred(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in())
    for number in range(120):
        await client.post(
            "/_emulator/repos",
            json={"id": 10_000 + number, "owner_id": 583231, "name": f"generated-{number:03}"},
        )
    default = await client.get("/user/repos", headers=headers)
    capped = await client.get("/user/repos?per_page=500", headers=headers)
    assert len(default.json()) == 30
    assert len(capped.json()) == 100
    assert 'page=2>; rel="last"' in capped.headers["link"]


async def test_visibility_filters_the_list(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    headers = bearer(await sign_in(scope="repo"))
    private = (await client.get("/user/repos?visibility=private", headers=headers)).json()
    assert [repo["name"] for repo in private] == ["boysenberry-repo-1"]
