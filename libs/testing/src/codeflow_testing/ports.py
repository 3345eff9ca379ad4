"""Free loopback ports for servers a test starts itself."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence

from codeflow_infra import processes


def free_ports(count: int, preferred: Sequence[int] = ()) -> list[int]:
    """``preferred`` when none of them accepts connections yet, else ``count`` ports the
    system has free now (held together while asked for, so they are distinct)."""
    if preferred and not any(processes.port_accepts("127.0.0.1", port) for port in preferred):
        return list(preferred)
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
