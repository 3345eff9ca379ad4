"""How the token endpoint words its answers: form-encoded unless the client asks otherwise."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from starlette.responses import JSONResponse, Response

from codeflow_github_emulator.grants import IssuedTokens, TokenRequestError

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
JSON_MEDIA_TYPE = "application/json; charset=utf-8"
XML_MEDIA_TYPE = "application/xml; charset=utf-8"


def token_fields(issued: IssuedTokens, now: datetime) -> dict[str, str | int]:
    """The fields of a successful answer, in GitHub's order."""
    fields: dict[str, str | int] = {"access_token": issued.access.token}
    if issued.refresh is not None and issued.access.expires_at is not None:
        fields["expires_in"] = _seconds_until(issued.access.expires_at, now)
        fields["refresh_token"] = issued.refresh.token
        fields["refresh_token_expires_in"] = _seconds_until(issued.refresh.expires_at, now)
    # GitHub joins granted scopes with commas here (and with ", " in X-OAuth-Scopes).
    fields["scope"] = ",".join(issued.access.scopes)
    fields["token_type"] = "bearer"  # noqa: S105 - a token type, not a secret
    return fields


def error_fields(error: TokenRequestError) -> dict[str, str | int]:
    return {
        "error": error.error,
        "error_description": error.description,
        "error_uri": error.uri,
    }


def render(fields: dict[str, str | int], accept: str) -> Response:
    """JSON for ``Accept: application/json``, XML for ``application/xml``, else a form body.

    Errors are rendered the same way and, as on GitHub, still answer HTTP 200.
    """
    wanted = accept.lower()
    if "application/json" in wanted:
        return JSONResponse(fields, media_type=JSON_MEDIA_TYPE)
    if "application/xml" in wanted:
        return Response(_xml(fields), media_type=XML_MEDIA_TYPE)
    return Response(urlencode(fields), media_type=FORM_MEDIA_TYPE)


def _xml(fields: dict[str, str | int]) -> str:
    inner = "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in fields.items())
    return f"<OAuth>{inner}</OAuth>"


def _seconds_until(moment: datetime, now: datetime) -> int:
    return int((moment - now).total_seconds())
