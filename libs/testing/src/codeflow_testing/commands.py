"""Running a service's command line as an operator does: ``python -m <package> ...``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Finished:
    """How a command ended: its exit code and what it wrote, decoded."""

    returncode: int
    stdout: str
    stderr: str


async def run_module(
    module: str, *args: str, env: Mapping[str, str], timeout: float = 60
) -> Finished:
    """Run ``python -m module ARGS`` in a process of its own with ``env``, to its end.

    Fails the test if it has not ended after ``timeout`` seconds (the process is killed).
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"python -m {module} {' '.join(args)} ran over {timeout}s") from None
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())
