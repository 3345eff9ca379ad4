"""``GET /user/repos`` beyond one's own: collaborations, organisations, ``type`` and filters."""

import httpx
import pytest

from codeflow_github_emulator.testing import OCTO_ORG_ID, PRIVATE_PERSON_ID, SignIn, bearer


async def names(client: httpx.AsyncClient, token: str, query: str = "") -> list[str]:
    response = await client.get(f"/user/repos{query}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return [repo["full_name"] for repo in response.json()]


async def test_by_default_the_list_has_owned_shared_and_organisation_repositories(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in("private-person", scope="repo")
    assert await names(client, token) == [
        "octo-org/octo-repo",
        "octo-org/roadmap",
        "octocat/boysenberry-repo-1",
        "private-person/diary",
        "private-person/dotfiles",
    ]


@pytest.mark.parametrize(
    ("affiliation", "expected"),
    [
        ("owner", ["private-person/diary", "private-person/dotfiles"]),
        ("collaborator", ["octocat/boysenberry-repo-1"]),
        ("organization_member", ["octo-org/octo-repo", "octo-org/roadmap"]),
        (
            "owner,collaborator",
            ["octocat/boysenberry-repo-1", "private-person/diary", "private-person/dotfiles"],
        ),
    ],
)
async def test_affiliation_chooses_how_the_person_reaches_a_repository(
    client: httpx.AsyncClient, sign_in: SignIn, affiliation: str, expected: list[str]
) -> None:
    token = await sign_in("private-person", scope="repo")
    assert await names(client, token, f"?affiliation={affiliation}") == expected


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("owner", ["private-person/diary", "private-person/dotfiles"]),
        ("member", ["octo-org/octo-repo", "octo-org/roadmap", "octocat/boysenberry-repo-1"]),
        ("public", ["octo-org/octo-repo", "private-person/dotfiles"]),
        ("private", ["octo-org/roadmap", "octocat/boysenberry-repo-1", "private-person/diary"]),
        (
            "all",
            [
                "octo-org/octo-repo",
                "octo-org/roadmap",
                "octocat/boysenberry-repo-1",
                "private-person/diary",
                "private-person/dotfiles",
            ],
        ),
    ],
)
async def test_type_stands_for_an_affiliation_and_visibility(
    client: httpx.AsyncClient, sign_in: SignIn, kind: str, expected: list[str]
) -> None:
    token = await sign_in("private-person", scope="repo")
    assert await names(client, token, f"?type={kind}") == expected


async def test_visibility_and_affiliation_combine(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in("private-person", scope="repo")
    query = "?visibility=private&affiliation=organization_member,collaborator"
    assert await names(client, token, query) == ["octo-org/roadmap", "octocat/boysenberry-repo-1"]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("type=owner&affiliation=owner", id="type with affiliation"),
        pytest.param("type=owner&visibility=public", id="type with visibility"),
    ],
)
async def test_type_with_affiliation_or_visibility_is_a_validation_failure(
    client: httpx.AsyncClient, sign_in: SignIn, query: str
) -> None:
    response = await client.get(f"/user/repos?{query}", headers=bearer(await sign_in()))
    assert response.status_code == 422
    assert response.json()["message"] == (
        "If you specify visibility or affiliation, you cannot specify type."
    )


async def test_without_the_repo_scope_shared_private_repositories_stay_hidden(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in("private-person", scope="read:user")
    assert await names(client, token) == ["octo-org/octo-repo", "private-person/dotfiles"]


async def test_permissions_follow_the_persons_tie_to_the_repository(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in("private-person", scope="repo")
    repos = (await client.get("/user/repos", headers=bearer(token))).json()
    by_name = {repo["full_name"]: repo["permissions"] for repo in repos}
    assert by_name["private-person/diary"]["admin"] is True
    assert by_name["octocat/boysenberry-repo-1"] == {
        "admin": False,
        "maintain": False,
        "push": True,
        "triage": True,
        "pull": True,
    }
    assert by_name["octo-org/roadmap"] == {
        "admin": False,
        "maintain": False,
        "push": False,
        "triage": False,
        "pull": True,
    }


async def test_an_organisations_repository_names_the_organisation_as_owner(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in("private-person", scope="repo")
    repos = (await client.get("/user/repos?type=member", headers=bearer(token))).json()
    octo_repo = next(repo for repo in repos if repo["name"] == "octo-repo")
    assert octo_repo["owner"]["login"] == "octo-org"
    assert octo_repo["owner"]["id"] == OCTO_ORG_ID
    assert octo_repo["owner"]["type"] == "Organization"
    assert octo_repo["owner"]["node_id"] == "MDEyOk9yZ2FuaXphdGlvbjk5MTk="


async def test_each_repository_carries_what_a_dashboard_shows(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in("private-person", scope="repo")
    repo = (await client.get("/user/repos?per_page=1", headers=bearer(token))).json()[0]
    shown = {
        "id",
        "name",
        "full_name",
        "owner",
        "private",
        "visibility",
        "description",
        "default_branch",
        "pushed_at",
        "stargazers_count",
        "html_url",
        "archived",
    }
    assert shown <= set(repo)
    assert repo["description"] == "The organisation's open work."
    assert repo["archived"] is False


async def test_sorting_by_full_name_takes_the_owners_login_into_account(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in("private-person", scope="repo")
    descending = await names(client, token, "?direction=desc")
    assert descending == sorted(descending, key=str.lower, reverse=True)
    assert descending[0] == "private-person/dotfiles"


async def test_a_new_collaboration_shows_in_the_list(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    await client.post(
        "/_emulator/repos", json={"id": 900_000_001, "collaborator_ids": [PRIVATE_PERSON_ID]}
    )
    token = await sign_in("private-person", scope="repo")
    assert "monalisa/smile" in await names(client, token, "?affiliation=collaborator")


async def test_since_and_before_bound_when_a_repository_was_last_updated(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in("private-person", scope="repo")
    assert await names(client, token, "?since=2024-05-01T00:00:00Z") == [
        "octo-org/octo-repo",
        "octo-org/roadmap",
        "octocat/boysenberry-repo-1",
    ]
    query = "?since=2024-01-01T00:00:00Z&before=2024-05-21T00:00:00Z"
    assert await names(client, token, query) == ["octo-org/octo-repo", "private-person/dotfiles"]
    assert len(await names(client, token, "?since=not-a-time")) == 5
