"""Ids look like Auth.js/Prisma cuids and don't collide."""

from __future__ import annotations

import string

from codeflow_auth.ids import new_id


def test_an_id_is_25_lowercase_base36_characters_starting_with_a_letter() -> None:
    for _ in range(1000):
        id_ = new_id()
        assert len(id_) == 25
        assert id_[0] in string.ascii_lowercase
        assert set(id_) <= set(string.ascii_lowercase + string.digits)


def test_ids_do_not_repeat() -> None:
    ids = {new_id() for _ in range(50_000)}
    assert len(ids) == 50_000


def test_ids_use_the_whole_alphabet() -> None:
    seen = set("".join(new_id()[1:] for _ in range(200)))
    assert seen == set(string.ascii_lowercase + string.digits)
