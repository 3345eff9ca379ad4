"""Which redirect URIs an app may use, by GitHub's rules for callback URLs."""

import pytest

from codeflow_github_emulator.fixtures import OAuthAppFixture
from codeflow_github_emulator.redirects import redirect_uri_allowed

APP = OAuthAppFixture(
    client_id="c",
    client_secret="s",
    callback_urls=["https://app.example.com/auth/callback", "http://127.0.0.1/"],
)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/auth/callback",
        "https://app.example.com/auth/callback/github",
        "https://APP.example.com/auth/callback?next=1",
        "http://127.0.0.1:8123/anything",
        "http://127.0.0.1/",
    ],
)
def test_same_host_and_a_path_under_the_callback_is_allowed(uri: str) -> None:
    assert redirect_uri_allowed(APP, uri)


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example.com/auth/callback",
        "https://app.example.com:8443/auth/callback",
        "https://app.example.com/auth/callbackfoo",
        "https://app.example.com/other",
        "https://evil.example.com/auth/callback",
        "http://localhost:8000/auth",
        "https://app.example.com/auth/callback#fragment",
        "http://127.0.0.1:notaport/",
    ],
)
def test_another_scheme_host_port_or_path_is_refused(uri: str) -> None:
    assert not redirect_uri_allowed(APP, uri)
