"""Ids for the auth tables, shaped like the ``cuid()`` ids Auth.js and Prisma generate.

An id is 25 characters of lowercase base 36 starting with a letter, like a cuid, but all of
it after the first character is drawn from :mod:`secrets` (about 124 random bits), so ids
reveal neither creation time nor host and don't collide in practice.
"""

from __future__ import annotations

import secrets
import string

ALPHABET = string.digits + string.ascii_lowercase
ID_LENGTH = 25
_RANDOM_LENGTH = ID_LENGTH - 1


def new_id() -> str:
    """A new random id, e.g. ``'k3v9x0q2m8r1t7b4n6c5z0a1d'``."""
    first = secrets.choice(string.ascii_lowercase)
    number = secrets.randbelow(len(ALPHABET) ** _RANDOM_LENGTH)
    digits = []
    for _ in range(_RANDOM_LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return first + "".join(digits)
