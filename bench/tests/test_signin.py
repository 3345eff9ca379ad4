"""The sign-in flow's browsers (no I/O): each flow a browser of its own, with its own
cookies, and none paying for a TLS context of its own."""

from __future__ import annotations

import ssl
from unittest import mock

from yarl import URL

from codeflow_bench.signin import SESSION_COOKIE, browser

AUTH = URL("http://127.0.0.1:3001/")


async def test_browsers_share_one_tls_context_but_keep_their_own_cookies() -> None:
    with mock.patch.object(
        ssl, "create_default_context", wraps=ssl.create_default_context
    ) as contexts:
        first, second, third = browser(), browser(), browser()
    async with first, second, third:
        # Set by a bare address, as auth does on this machine; a browser keeps it.
        first.cookie_jar.update_cookies({SESSION_COOKIE: "first's"}, AUTH)
        assert contexts.call_count <= 1
        assert first.cookie_jar.filter_cookies(AUTH)[SESSION_COOKIE].value == "first's"
        assert SESSION_COOKIE not in second.cookie_jar.filter_cookies(AUTH)
        assert SESSION_COOKIE not in third.cookie_jar.filter_cookies(AUTH)
