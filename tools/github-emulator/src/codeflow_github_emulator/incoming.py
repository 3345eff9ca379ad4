"""Reading what clients send: parameters from query, form or JSON, and credentials."""

from __future__ import annotations

import base64
import binascii
import json

from starlette.requests import Request

from codeflow_github_emulator.state import EmulatorState


def emulator_state(request: Request) -> EmulatorState:
    """The state :func:`codeflow_github_emulator.create_app` attached to the app."""
    state = request.app.state.emulator
    assert isinstance(state, EmulatorState)
    return state


async def request_parameters(request: Request) -> dict[str, str]:
    """Query parameters overlaid with the body's, whether form-encoded or JSON.

    GitHub reads its OAuth endpoints' parameters from any of these places.
    """
    params = dict(request.query_params)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        if isinstance(body, dict):
            params.update({str(k): str(v) for k, v in body.items() if v is not None})
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        async with request.form() as form:
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The user and password of an ``Authorization: Basic`` header, if there is one."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, separator, password = decoded.partition(":")
    return (user, password) if separator else None
