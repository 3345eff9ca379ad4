"""How long a session lives: an idle timeout, an absolute lifetime, and a recent sign-in.

A session ends at whichever comes first: its last use plus the idle timeout, or its creation
(the sign-in) plus the absolute lifetime. Using it slides the first, never the second. The
stored ``expires`` is written at most once per ``update_age`` (as Auth.js does), so a session
may end up to ``update_age`` earlier than its last use plus the idle timeout; one more write
lets it reach its absolute end when that comes within the idle timeout. See ADR 0016.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class SessionPolicy:
    idle_timeout: timedelta
    absolute_lifetime: timedelta
    update_age: timedelta
    activity_interval: timedelta
    reauth_window: timedelta

    def ends_at(self, created_at: datetime) -> datetime:
        """The moment a session opened at ``created_at`` ends, however much it is used."""
        return created_at + self.absolute_lifetime

    def expiry(self, *, created_at: datetime, used_at: datetime) -> datetime:
        """The expiry of a session opened at ``created_at`` and last used at ``used_at``."""
        return min(used_at + self.idle_timeout, self.ends_at(created_at))

    def expires_at(self, *, created_at: datetime, expires: datetime) -> datetime:
        """When a stored session ends: its ``expires``, but never after its absolute end
        (a row written under longer settings ends with the current ones)."""
        return min(expires, self.ends_at(created_at))

    def expired(self, *, created_at: datetime, expires: datetime, now: datetime) -> bool:
        return self.expires_at(created_at=created_at, expires=expires) <= now

    def slide_due(self, *, created_at: datetime, expires: datetime, now: datetime) -> bool:
        """Whether a use at ``now`` writes a new expiry: a day's slide (``update_age``), or
        the last step to the absolute end."""
        wanted = self.expiry(created_at=created_at, used_at=now)
        return wanted - expires >= self.update_age or (expires < wanted == self.ends_at(created_at))

    def signed_in_recently(self, *, created_at: datetime, now: datetime) -> bool:
        """Whether the sign-in that opened a session lies within the re-authentication window,
        as erasing the account requires."""
        return now - created_at <= self.reauth_window
