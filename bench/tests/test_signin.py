"""The sign-in flow's browsers (no I/O): each flow a browser of its own, none paying for a
TLS context of its own."""

from __future__ import annotations

import ssl
from unittest import mock

from codeflow_bench.signin import browser


async def test_browsers_share_one_tls_context_but_keep_their_own_cookies() -> None:
    with mock.patch.object(
        ssl, "create_default_context", wraps=ssl.create_default_context
    ) as contexts:
        first, second, third = browser(), browser(), browser()
    async with first, second, third:
        first.cookies.set("authjs.session-token", "first's")
        assert contexts.call_count <= 1
        assert second.cookies.get("authjs.session-token") is None
        assert third.cookies.get("authjs.session-token") is None
