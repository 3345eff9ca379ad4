"""Who sees which repository, and with what permissions, as GitHub decides it.

A person reaches a repository as its owner, as a collaborator invited to it, or as a member
of the organisation that owns it (members have the organisation's base permission, read).
Anyone sees a public repository; a private one only its people, and only through a token
with the ``repo`` scope.
"""

from __future__ import annotations

from typing import Literal

from codeflow_github_emulator.fixtures import RepoFixture
from codeflow_github_emulator.state import AccessGrant, EmulatorState

Affiliation = Literal["owner", "collaborator", "organization_member"]
AFFILIATIONS: tuple[Affiliation, ...] = ("owner", "collaborator", "organization_member")

_ROLES = ("admin", "maintain", "push", "triage", "pull")
_ROLE_OF: dict[Affiliation | None, str] = {
    "owner": "admin",
    "collaborator": "push",
    "organization_member": "pull",
    None: "pull",
}


def affiliation(state: EmulatorState, repo: RepoFixture, user_id: int) -> Affiliation | None:
    """How the user reaches the repository, the closest tie first; ``None`` when not at all."""
    if repo.owner_id == user_id:
        return "owner"
    if user_id in repo.collaborator_ids:
        return "collaborator"
    org = state.orgs.get(repo.owner_id)
    if org is not None and user_id in org.member_ids:
        return "organization_member"
    return None


def permissions(tie: Affiliation | None) -> dict[str, bool]:
    """GitHub's ``permissions`` object: every role up to the one the tie gives is true."""
    granted = _ROLES[_ROLES.index(_ROLE_OF[tie]) :]
    return {role: role in granted for role in _ROLES}


def visible(state: EmulatorState, repo: RepoFixture, grant: AccessGrant | None) -> bool:
    """Whether the token (``None``: no token) may see the repository at all."""
    if not repo.private:
        return True
    if grant is None or "repo" not in grant.scopes:
        return False
    return affiliation(state, repo, grant.user_id) is not None


def full_name(state: EmulatorState, repo: RepoFixture) -> str:
    """``owner/name``, with the owner's login of today (it follows renames and transfers)."""
    owner = state.account(repo.owner_id)
    return f"{owner.login if owner else '?'}/{repo.name}"
