"""Run a coroutine to completion from synchronous code, whatever loop the caller has."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on a fresh event loop in a worker thread and return its result.

    The launcher and the pytest fixtures are synchronous, but they may be called while an
    event loop exists in the calling thread (pytest-asyncio's); a separate thread keeps the
    two loops apart.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="codeflow-infra") as pool:
        return pool.submit(asyncio.run, coroutine).result()
