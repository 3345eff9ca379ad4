"""What the repositories service holds while it runs: the kit's state, and GitHub."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from codeflow_repositories.github import GitHub
from codeflow_service.state import ServiceState, state_of


@dataclass(frozen=True)
class RepositoriesState(ServiceState):
    github: GitHub


def _github(request: Request) -> GitHub:
    state: RepositoriesState = state_of(request)
    return state.github


GitHubClient = Annotated[GitHub, Depends(_github)]
"""GitHub, through auth's internal route, for a request."""
