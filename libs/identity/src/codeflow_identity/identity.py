"""Who is calling, as a verified token says."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Identity:
    """The caller named by a verified token: the auth user id and all of the token's claims."""

    user_id: str
    claims: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)

    @property
    def login(self) -> str | None:
        """The GitHub login, when the token carries one."""
        login = self.claims.get("login")
        return login if isinstance(login, str) else None

    @property
    def is_admin(self) -> bool:
        """True only when the token says `"admin": true`."""
        return self.claims.get("admin") is True

    @property
    def expires_at(self) -> datetime:
        """When the token stops being accepted (before leeway)."""
        return datetime.fromtimestamp(int(self.claims["exp"]), UTC)
