"""The session endpoints: who am I, sign out, delete me, and the gateway's verify."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from codeflow_auth import adapter
from codeflow_auth.dependencies import DbSession, State
from codeflow_auth.models import User
from codeflow_auth.problems import CsrfRejected, NotSignedIn
from codeflow_auth.sessions import service
from codeflow_identity import service_audience
from codeflow_identity.problems import problem_response, problem_type
from codeflow_messaging import transaction
from codeflow_service import ReadSession

router = APIRouter(prefix="/auth", tags=["sessions"])

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"description": "No valid session"}}


class SessionUser(BaseModel):
    id: str
    name: str | None
    email: str | None
    image: str | None


class SessionInfo(BaseModel):
    """Auth.js's session shape."""

    user: SessionUser
    expires: str


class CsrfToken(BaseModel):
    csrfToken: str


class Verified(BaseModel):
    userId: str
    token: str
    expiresIn: int


@router.get("/session", response_model=SessionInfo | None)
async def read_session(request: Request, state: State, db: DbSession) -> Any:
    """The signed-in user and when the session expires, or ``null``, as Auth.js answers.

    A visit counts as activity, and slides the session's expiry.
    """
    token = state.session_cookie.read(request)
    active = await service.use_session(db, token, state.policy)
    if active is None or token is None:
        return None
    body = SessionInfo(
        user=SessionUser(
            id=active.user.id,
            name=active.user.name,
            email=active.user.email,
            image=active.user.image,
        ),
        expires=active.expires.isoformat().replace("+00:00", "Z"),
    )
    response = JSONResponse(body.model_dump())
    if active.refreshed:
        state.session_cookie.write(response, token, active.expires)
    return response


@router.get("/csrf", response_model=CsrfToken, responses=UNAUTHORIZED)
async def read_csrf_token(request: Request, state: State, db: DbSession) -> CsrfToken:
    """The token that ``POST /auth/signout`` and ``DELETE /auth/me`` require."""
    token = state.session_cookie.read(request)
    if await service.find_session(db, token) is None or token is None:
        raise NotSignedIn("sign in first")
    return CsrfToken(csrfToken=state.session_cookie.csrf_token(token))


CsrfForm = Annotated[str | None, Form(alias="csrfToken")]
CsrfHeader = Annotated[str | None, Header(alias="X-CSRF-Token")]


async def checked_session(
    request: Request,
    state: State,
    db: DbSession,
    csrf_form: CsrfForm = None,
    csrf_header: CsrfHeader = None,
) -> tuple[str, User]:
    """The session token and user of a state-changing request, after its CSRF checks."""
    csrf = csrf_form or csrf_header
    origin = request.headers.get("origin")
    if origin is not None and origin != state.settings.public_origin:
        raise CsrfRejected(f"requests from {origin} may not change this session")
    token = state.session_cookie.read(request)
    found = await service.find_session(db, token)
    if token is None or found is None:
        raise NotSignedIn("sign in first")
    if not state.session_cookie.csrf_matches(token, csrf):
        raise CsrfRejected(
            "send the token from GET /auth/csrf as the csrfToken form field or the "
            "X-CSRF-Token header"
        )
    return token, found[1]


CheckedSession = Annotated[tuple[str, User], Depends(checked_session)]


@router.post("/signout", status_code=204, responses=UNAUTHORIZED)
async def sign_out(state: State, db: DbSession, checked: CheckedSession) -> Response:
    """End this session on the server and clear the cookie."""
    token, _ = checked
    await service.sign_out(db, token)
    response = Response(status_code=204)
    state.session_cookie.clear(response)
    return response


@router.post("/signout/everywhere", status_code=204, responses=UNAUTHORIZED)
async def sign_out_everywhere(state: State, db: DbSession, checked: CheckedSession) -> Response:
    """End every session of the signed-in user, on every device."""
    _, user = checked
    await service.sign_out_everywhere(db, user.id)
    response = Response(status_code=204)
    state.session_cookie.clear(response)
    return response


@router.delete("/me", status_code=202, responses=UNAUTHORIZED)
async def delete_me(state: State, db: DbSession, checked: CheckedSession) -> Response:
    """Ask for this account and everything CodeFlow holds about it to be erased.

    Every session ends now; the erasure runs across the services and completes shortly.
    """
    _, user = checked
    await service.request_deletion(db, user, revoker=state.revoker)
    response = JSONResponse({"status": "deletion requested", "userId": user.id}, 202)
    state.session_cookie.clear(response)
    return response


Service = Annotated[
    Literal["profiles", "repositories", "janitor"],
    Query(alias="service", description="the service the request goes to; the JWT is for it"),
]


@router.get(
    "/verify",
    response_model=Verified,
    responses={401: {"description": "No valid session"}},
)
async def verify(request: Request, state: State, reader: ReadSession, target: Service) -> Response:
    """For the gateway: is this request's session valid, and who is it?

    200 carries ``X-User-Id`` and a JWT (``X-Auth-Token``) valid for a few minutes, whose
    audience is ``service`` (``codeflow-<service>``); anything else is 401. An expired
    session's row is deleted. Only the janitor's tokens may say ``admin``: for a user whose
    GitHub account's numeric id is in ``AUTH_ADMIN_GITHUB_IDS``.

    Most calls only read (one query, no transaction); a transaction is opened only when
    something is due: deleting an expired session, sliding the expiry, recording activity.
    """
    token = state.session_cookie.read(request)
    now = datetime.now(UTC)
    found = await service.peek_session(reader, token)
    active: service.ActiveSession | None = None
    if found is not None and service.writes_due(found, state.policy, now):
        await reader.close()  # give its connection back before taking one to write
        async with transaction(state.sessions) as db:
            active = await service.use_session(db, token, state.policy, now=now)
    elif found is not None:
        db_session, user = found
        active = service.ActiveSession(db_session, user, db_session.expires, refreshed=False)
    if active is None:
        return problem_response(
            NotSignedIn.status,
            problem_type(NotSignedIn.slug),
            NotSignedIn.title,
            headers={"WWW-Authenticate": 'Cookie realm="codeflow"'},
        )
    claims: dict[str, Any] = {}
    if active.user.login:
        claims["login"] = active.user.login
    if target == "janitor" and await _is_admin(reader, state, active.user.id):
        claims["admin"] = True
    jwt = state.issuer.issue(active.user.id, extra_claims=claims, audience=service_audience(target))
    ttl = int(state.issuer.ttl.total_seconds())
    return JSONResponse(
        Verified(userId=active.user.id, token=jwt, expiresIn=ttl).model_dump(),
        headers={
            "X-User-Id": active.user.id,
            "X-Auth-Token": jwt,
            "Cache-Control": "no-store",
        },
    )


async def _is_admin(reader: ReadSession, state: State, user_id: str) -> bool:
    """Decided by GitHub's numeric user id: a login passes to whoever registers it next."""
    admins = state.settings.admin_github_ids
    return bool(admins) and await adapter.github_id_of(reader, user_id) in admins


@router.get("/.well-known/jwks.json", tags=["keys"])
async def jwks(state: State) -> Response:
    """The public keys that verify CodeFlow's JWTs."""
    return JSONResponse(state.keyset.jwks(), headers={"Cache-Control": "public, max-age=300"})
