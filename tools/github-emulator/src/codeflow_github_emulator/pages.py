"""The few HTML pages a person sees on the emulator's github.com side."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from starlette.responses import HTMLResponse

from codeflow_github_emulator.fixtures import OAuthAppFixture, UserFixture

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;color:#1f2328}"
    "form{display:inline}button{margin:.25rem 0;padding:.5rem 1rem;cursor:pointer}"
    "li{list-style:none;margin:.5rem 0}.muted{color:#59636e}"
)


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code)


def not_found() -> HTMLResponse:
    """What github.com shows for an authorization request naming an unknown client_id."""
    return _page(
        "Page not found · GitHub",
        "<h1>404</h1><p>This is not the web page you are looking for.</p>",
        status_code=404,
    )


def _hidden_fields(params: Mapping[str, str]) -> str:
    return "".join(
        f"<input type='hidden' name='{escape(key)}' value='{escape(value)}'>"
        for key, value in params.items()
    )


def sign_in(
    app: OAuthAppFixture, params: Mapping[str, str], users: Iterable[UserFixture]
) -> HTMLResponse:
    """Pick an account to authorize the app as, or cancel; each choice is a POST form."""
    kept = {k: v for k, v in params.items() if k not in {"login", "error"}}
    hidden = _hidden_fields(kept)
    choices = "".join(
        "<li><form method='post' action='/login/oauth/authorize'>"
        f"{hidden}<input type='hidden' name='login' value='{escape(user.login)}'>"
        f"<button type='submit'>Authorize as {escape(user.login)}</button></form> "
        f"<span class='muted'>{escape(user.name or '')} (id {user.id})</span></li>"
        for user in users
    )
    cancel = (
        "<form method='post' action='/login/oauth/authorize'>"
        f"{hidden}<input type='hidden' name='error' value='access_denied'>"
        "<button type='submit'>Cancel</button></form>"
    )
    scopes = escape(params.get("scope", "") or "(no scopes)")
    body = (
        f"<h1>Authorize {escape(app.name)}</h1>"
        f"<p class='muted'>GitHub emulator · requested scopes: {scopes}</p>"
        f"<ul>{choices or '<li>No users are configured.</li>'}</ul>{cancel}"
    )
    return _page(f"Authorize application · {app.name}", body)
