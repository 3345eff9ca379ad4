"""The sign-in flow's browsers (no I/O): each flow a browser of its own, none paying for a
TLS context of its own."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from codeflow_bench.signin import browser


async def test_browsers_share_one_tls_context_but_keep_their_own_cookies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[object] = []
    create = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(args)
        return create(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    first, second, third = browser(), browser(), browser()
    async with first, second, third:
        first.cookies.set("authjs.session-token", "first's")
        assert len(made) <= 1
        assert second.cookies.get("authjs.session-token") is None
        assert third.cookies.get("authjs.session-token") is None
