"""The built-in fixtures: a few users with the email set-ups that trip sign-in code up."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codeflow_github_emulator.fixtures import (
    EmailFixture,
    Fixtures,
    OAuthAppFixture,
    OrgFixture,
    RepoFixture,
    UserFixture,
)

DEV_CLIENT_ID = "codeflow-dev-client"
DEV_CLIENT_SECRET = "codeflow-dev-secret"  # noqa: S105 - a well-known development value

OCTOCAT_ID = 583231
PRIVATE_PERSON_ID = 3_000_000_007  # past 2**31: ids must be stored as BIGINT
UNVERIFIED_ID = 4_000_002
MONALISA_ID = 2_147_483_648  # exactly 2**31
OCTO_ORG_ID = 9_919


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _noreply(user_id: int, login: str) -> EmailFixture:
    return EmailFixture(email=f"{user_id}+{login}@users.noreply.github.com", verified=True)


def _users() -> list[UserFixture]:
    return [
        UserFixture(
            id=OCTOCAT_ID,
            login="octocat",
            name="The Octocat",
            email="octocat@github.com",
            emails=[
                EmailFixture(
                    email="octocat@github.com", primary=True, verified=True, visibility="public"
                ),
                _noreply(OCTOCAT_ID, "octocat"),
            ],
            company="@github",
            blog="https://github.blog",
            location="San Francisco",
            followers=20,
            following=9,
            public_gists=8,
            created_at=_at("2011-01-25T18:44:36"),
            updated_at=_at("2024-06-01T12:00:00"),
        ),
        UserFixture(
            id=PRIVATE_PERSON_ID,
            login="private-person",
            name="Private Person",
            email=None,
            emails=[
                EmailFixture(
                    email="private.person@example.com",
                    primary=True,
                    verified=True,
                    visibility="private",
                ),
                _noreply(PRIVATE_PERSON_ID, "private-person"),
            ],
            bio="Keeps the email address private.",
            created_at=_at("2019-03-14T09:26:53"),
            updated_at=_at("2024-02-02T08:00:00"),
        ),
        UserFixture(
            id=UNVERIFIED_ID,
            login="unverified",
            name=None,
            email=None,
            emails=[
                EmailFixture(
                    email="unverified@example.com",
                    primary=True,
                    verified=False,
                    visibility="private",
                ),
                _noreply(UNVERIFIED_ID, "unverified"),
            ],
            two_factor_authentication=False,
            created_at=_at("2024-11-30T23:59:59"),
            updated_at=_at("2024-11-30T23:59:59"),
        ),
        UserFixture(
            id=MONALISA_ID,
            login="monalisa",
            name="Mona Lisa Octocat",
            # The public profile email need not be the primary one.
            email="mona@public.example.com",
            emails=[
                EmailFixture(
                    email="mona@work.example.com", primary=True, verified=True, visibility="public"
                ),
                EmailFixture(email="mona@public.example.com", verified=True),
                EmailFixture(email="mona@old.example.com", verified=False),
            ],
            company="Louvre",
            location="Paris",
            created_at=_at("2015-05-05T05:05:05"),
            updated_at=_at("2024-05-05T05:05:05"),
        ),
    ]


_OCTOCAT_REPOS = [
    # id, name, private, language, description, created, pushed
    (
        1296269,
        "Hello-World",
        False,
        None,
        "My first repository on GitHub!",
        "2011-01-26",
        "2024-05-01",
    ),
    (
        1300192,
        "Spoon-Knife",
        False,
        "HTML",
        "This repo is for demonstration purposes only.",
        "2011-01-27",
        "2024-04-30",
    ),
    (17881631, "octocat.github.io", False, "CSS", None, "2014-03-18", "2023-12-24"),
    (
        18221276,
        "git-consortium",
        False,
        None,
        "This repo is for demonstration purposes only.",
        "2014-03-28",
        "2023-11-20",
    ),
    (
        20978623,
        "hello-worId",
        False,
        None,
        "My first repository on GitHub.",
        "2014-06-18",
        "2023-10-02",
    ),
    (56271164, "test-repo1", False, None, None, "2016-04-14", "2023-09-01"),
    (132935648, "boysenberry-repo-1", True, None, "Testing", "2018-05-10", "2024-06-01"),
    (2_200_000_001, "linguist", False, "Ruby", "Language Savant.", "2024-01-02", "2024-06-02"),
]


def _repo(
    repo_id: int, owner_id: int, name: str, created: str, pushed: str, **details: Any
) -> RepoFixture:
    """A repository last changed by its latest push (``updated_at`` is ``pushed_at``)."""
    return RepoFixture(
        id=repo_id,
        owner_id=owner_id,
        name=name,
        created_at=_at(created),
        updated_at=_at(pushed),
        pushed_at=_at(pushed),
        **details,
    )


def _repos() -> list[RepoFixture]:
    repos = [
        _repo(
            repo_id,
            OCTOCAT_ID,
            name,
            f"{created}T10:00:00",
            f"{pushed}T11:00:00",
            private=private,
            language=language,
            description=description,
            default_branch="master" if repo_id < 100_000_000 else "main",
            stargazers_count=max(0, 3000 - index * 400),
            # private-person was invited to octocat's private repository.
            collaborator_ids=[PRIVATE_PERSON_ID] if private else [],
        )
        for index, (repo_id, name, private, language, description, created, pushed) in enumerate(
            _OCTOCAT_REPOS
        )
    ]
    repos += [
        _repo(
            3_000_000_101,
            PRIVATE_PERSON_ID,
            "diary",
            "2020-01-01T00:00:00",
            "2024-01-01T00:00:00",
            private=True,
            description="Nobody else's business.",
        ),
        _repo(
            3_000_000_102,
            PRIVATE_PERSON_ID,
            "dotfiles",
            "2021-01-01T00:00:00",
            "2024-03-01T00:00:00",
            language="Shell",
        ),
        _repo(
            900_000_001,
            MONALISA_ID,
            "smile",
            "2022-02-02T00:00:00",
            "2024-04-04T00:00:00",
            language="Python",
            topics=["art", "python"],
            fork=True,
        ),
        _repo(
            1_296_300,
            OCTO_ORG_ID,
            "octo-repo",
            "2012-03-01T00:00:00",
            "2024-05-20T00:00:00",
            language="Go",
            description="The organisation's open work.",
        ),
        _repo(
            1_296_301,
            OCTO_ORG_ID,
            "roadmap",
            "2012-03-02T00:00:00",
            "2024-05-21T00:00:00",
            private=True,
            description="Plans its members read.",
        ),
    ]
    return repos


def _orgs() -> list[OrgFixture]:
    return [
        OrgFixture(
            id=OCTO_ORG_ID, login="octo-org", name="Octo Org", member_ids=[PRIVATE_PERSON_ID]
        )
    ]


def default_fixtures() -> Fixtures:
    """Four users, an organisation, one development OAuth app for loopback callbacks, and
    repositories owned, shared and reached through the organisation."""
    app = OAuthAppFixture(
        client_id=DEV_CLIENT_ID,
        client_secret=DEV_CLIENT_SECRET,
        callback_urls=["http://127.0.0.1/", "http://localhost/", "http://[::1]/"],
    )
    return Fixtures(users=_users(), orgs=_orgs(), apps=[app], repos=_repos())


def load_fixtures(path: Path | None) -> Fixtures:
    """The fixtures in the JSON file at ``path``, or the built-in ones when it is ``None``."""
    if path is None:
        return default_fixtures()
    return Fixtures.model_validate_json(path.read_bytes())
