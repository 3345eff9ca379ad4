"""What the auth service holds while it runs, built once by the lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from codeflow_auth.config import AuthSettings
from codeflow_auth.github_access.service import GitHubAccess
from codeflow_auth.revocation import GrantRevoker
from codeflow_auth.sessions.cookies import SessionCookie
from codeflow_auth.sessions.lifetimes import SessionPolicy
from codeflow_auth.signin.github import GitHub
from codeflow_auth.signin.state import StateCookie
from codeflow_auth.token_cipher import TokenCipher
from codeflow_identity.keys import KeySet
from codeflow_identity.tokens import TokenIssuer
from codeflow_messaging import SessionFactory
from codeflow_service.state import Runtime


@dataclass(frozen=True)
class AuthState:
    """Yielded by auth's lifespan as ``{"codeflow": state}``; requests find it again."""

    settings: AuthSettings
    runtime: Runtime
    github: GitHub
    cipher: TokenCipher
    keyset: KeySet
    issuer: TokenIssuer
    state_cookie: StateCookie
    session_cookie: SessionCookie
    policy: SessionPolicy
    revoker: GrantRevoker
    github_access: GitHubAccess

    @property
    def sessions(self) -> SessionFactory:
        return self.runtime.sessions
