"""The simulated people of a run: who they are on GitHub's stand-in and which repositories
they know of, all derived from the run's seed and their index, so two runs with one seed
have the same people."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import httpx

CATALOGUE_SIZE = 24
"""Repositories each person may monitor: few enough that they come back to the same ones."""

MAX_PEOPLE = 100_000

_FIRST_GITHUB_USER_ID = 900_000_000_000
_OWNERS = ("acme", "octo-labs", "northwind", "initech", "umbrella-dev", "hooli")
_WORDS = (
    "atlas", "beacon", "cobalt", "delta", "ember", "falcon", "garnet", "harbor", "iris",
    "juniper", "kestrel", "lumen", "meridian", "nimbus", "onyx", "pylon", "quartz", "raven",
    "sierra", "tundra", "umber", "vortex", "willow", "zephyr",
)  # fmt: skip
_SUFFIXES = ("api", "cli", "web", "core", "docs", "infra", "sdk", "bot", "ui", "lib")


_FIRST_OWNER_ID = _FIRST_GITHUB_USER_ID - len(_OWNERS)
"""The GitHub ids of the accounts in ``_OWNERS``, one after the other."""


@dataclass(frozen=True)
class Repository:
    """A public GitHub repository on the stand-in, which CodeFlow asks about by id."""

    github_id: int
    owner: str
    name: str
    owner_id: int

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def as_json(self) -> dict[str, object]:
        """The body ``POST /api/repositories`` takes (and a bulk monitor item, with its
        ``action``): the id; GitHub says the rest."""
        return {"github_id": self.github_id}


@dataclass(frozen=True)
class Person:
    index: int
    github_id: int
    login: str
    catalogue: tuple[Repository, ...]

    @property
    def email(self) -> str:
        return f"{self.login}@chaos.example.com"


def person(seed: int, index: int) -> Person:
    """Person ``index`` of the run seeded ``seed``: login ``chaos-<seed>-<index>``, a GitHub
    id of their own, and repositories whose ids no other person of the run uses."""
    if seed < 0 or not 0 <= index < MAX_PEOPLE:
        raise ValueError(f"need a seed >= 0 and 0 <= index < {MAX_PEOPLE}")
    key = (seed % 1_000_000) * MAX_PEOPLE + index
    login = f"chaos-{seed}-{index}"
    if len(login) > 39:
        raise ValueError(f"seed {seed} makes logins longer than GitHub's 39 characters")
    rng = random.Random(f"{seed}:{index}:catalogue")
    names: set[str] = set()
    catalogue = []
    for k in range(CATALOGUE_SIZE):
        name = _repository_name(rng, names)
        github_id = _FIRST_GITHUB_USER_ID + key
        if rng.random() < 0.5:
            owner, owner_id = login, github_id
        else:
            owner = rng.choice(_OWNERS)
            owner_id = _FIRST_OWNER_ID + _OWNERS.index(owner)
        catalogue.append(Repository(key * CATALOGUE_SIZE + k + 1, owner, name, owner_id))
    return Person(index, _FIRST_GITHUB_USER_ID + key, login, tuple(catalogue))


def everyone(seed: int, count: int) -> list[Person]:
    """The run's people, in index order."""
    return [person(seed, index) for index in range(count)]


def _repository_name(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = f"{rng.choice(_WORDS)}-{rng.choice(_SUFFIXES)}"
        if name not in taken:
            taken.add(name)
            return name


async def register(emulator_url: str, cast: list[Person], *, attempts: int = 5) -> None:
    """Add (or update) everyone, the accounts owning their repositories and the repositories
    themselves on GitHub's stand-in; raises when it keeps refusing."""
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=emulator_url, timeout=10) as client:

        async def add(path: str, body: dict[str, object]) -> None:
            async with limit:
                for attempt in range(attempts):
                    try:
                        response = await client.post(path, json=body)
                        response.raise_for_status()
                        return
                    except httpx.HTTPError:
                        if attempt == attempts - 1:
                            raise
                        await asyncio.sleep(1.0)

        owners = [{"id": _FIRST_OWNER_ID + n, "login": login} for n, login in enumerate(_OWNERS)]
        await asyncio.gather(
            *(add("/_emulator/users", owner) for owner in owners),
            *(add("/_emulator/users", _user(someone)) for someone in cast),
        )
        await asyncio.gather(
            *(
                add("/_emulator/repos", _repo(repository))
                for someone in cast
                for repository in someone.catalogue
            )
        )


def _user(someone: Person) -> dict[str, object]:
    return {
        "id": someone.github_id,
        "login": someone.login,
        "name": f"Chaos {someone.login}",
        "emails": [{"email": someone.email, "primary": True, "verified": True}],
    }


def _repo(repository: Repository) -> dict[str, object]:
    return {"id": repository.github_id, "owner_id": repository.owner_id, "name": repository.name}
