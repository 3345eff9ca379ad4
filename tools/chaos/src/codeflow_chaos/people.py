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


@dataclass(frozen=True)
class Repository:
    """A GitHub repository as a client read it from GitHub."""

    github_id: int
    owner: str
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def as_json(self) -> dict[str, object]:
        """The body ``POST /api/repositories`` takes (and a bulk monitor item, with its
        ``action``)."""
        return {
            "github_id": self.github_id,
            "owner": self.owner,
            "name": self.name,
            "full_name": self.full_name,
        }


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
        owner = login if rng.random() < 0.5 else rng.choice(_OWNERS)
        catalogue.append(Repository(key * CATALOGUE_SIZE + k + 1, owner, name))
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
    """Add (or update) everyone on GitHub's stand-in; raises when it keeps refusing."""
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=emulator_url, timeout=10) as client:

        async def add(someone: Person) -> None:
            async with limit:
                for attempt in range(attempts):
                    try:
                        response = await client.post("/_emulator/users", json=_user(someone))
                        response.raise_for_status()
                        return
                    except httpx.HTTPError:
                        if attempt == attempts - 1:
                            raise
                        await asyncio.sleep(1.0)

        await asyncio.gather(*(add(someone) for someone in cast))


def _user(someone: Person) -> dict[str, object]:
    return {
        "id": someone.github_id,
        "login": someone.login,
        "name": f"Chaos {someone.login}",
        "emails": [{"email": someone.email, "primary": True, "verified": True}],
    }
