"""B3's consumers drain in a settled heap, as a service's consumer runs after start-up."""

from __future__ import annotations

import gc

import pytest

from codeflow_bench.events import settled_heap


def _collector_sees(thing: object) -> bool:
    return any(tracked is thing for tracked in gc.get_objects())


def test_what_was_alive_before_is_out_of_the_collectors_sight_inside_the_block() -> None:
    before = [["kept since before the block"]]

    with settled_heap():
        made_inside = [["made inside the block"]]
        assert gc.get_freeze_count() > 0
        assert not _collector_sees(before)
        assert _collector_sees(made_inside)

    assert gc.get_freeze_count() == 0
    assert _collector_sees(before)


def test_the_heap_is_given_back_to_the_collector_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), settled_heap():
        raise RuntimeError("the consumer failed")

    assert gc.get_freeze_count() == 0
