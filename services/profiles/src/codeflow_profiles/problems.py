"""How the profiles service's domain errors read over HTTP, each with a stable ``type``."""

from __future__ import annotations

from codeflow_identity.problems import Problem
from codeflow_profiles.profiles.domain import ProfileNotFound

PROBLEMS: dict[type[Exception], Problem] = {
    ProfileNotFound: Problem(404, "profile-not-found", "Profile not found"),
}
