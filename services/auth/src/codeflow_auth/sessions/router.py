"""The session endpoints: who am I, sign out, delete me, and the gateway's verify."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from codeflow_auth.dependencies import DbSession, State
from codeflow_auth.errors import CsrfRejected, NotSignedIn
from codeflow_auth.models import Session, User
from codeflow_auth.problems import PROBLEMS
from codeflow_auth.sessions import repository, service
from codeflow_auth.sessions.schemas import DeletionRequested, SessionList, SessionSummary, iso
from codeflow_identity import service_audience
from codeflow_messaging import transaction
from codeflow_service import ReadConnection

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


@dataclass(frozen=True)
class Caller:
    """The live session a request came with: its token (from the cookie), row and user."""

    token: str
    session: Session
    user: User


async def signed_in(request: Request, state: State, db: DbSession) -> Caller:
    """The request's live session, or 401. One that has ended is deleted for good: the
    deletion is committed before the refusal (which rolls the request back)."""
    token = state.session_cookie.read(request)
    found = await service.find_session(db, token, state.policy)
    if token is None or found is None:
        await db.commit()
        raise NotSignedIn("sign in first")
    return Caller(token, *found)


SignedIn = Annotated[Caller, Depends(signed_in)]


@router.get("/csrf", response_model=CsrfToken, responses=UNAUTHORIZED)
async def read_csrf_token(state: State, caller: SignedIn) -> CsrfToken:
    """The token that ``POST /auth/signout`` and ``DELETE /auth/me`` require."""
    return CsrfToken(csrfToken=state.session_cookie.csrf_token(caller.token))


CsrfForm = Annotated[str | None, Form(alias="csrfToken")]
CsrfHeader = Annotated[str | None, Header(alias="X-CSRF-Token")]


async def checked_session(
    request: Request,
    state: State,
    db: DbSession,
    csrf_form: CsrfForm = None,
    csrf_header: CsrfHeader = None,
) -> Caller:
    """The live session of a state-changing request, after its CSRF checks."""
    csrf = csrf_form or csrf_header
    origin = request.headers.get("origin")
    if origin is not None and origin != state.settings.public_origin:
        raise CsrfRejected(f"requests from {origin} may not change this session")
    caller = await signed_in(request, state, db)
    if not state.session_cookie.csrf_matches(caller.token, csrf):
        raise CsrfRejected(
            "send the token from GET /auth/csrf as the csrfToken form field or the "
            "X-CSRF-Token header"
        )
    return caller


CheckedSession = Annotated[Caller, Depends(checked_session)]


@router.post("/signout", status_code=204, responses=UNAUTHORIZED)
async def sign_out(state: State, db: DbSession, caller: CheckedSession) -> Response:
    """End this session on the server and clear the cookie."""
    await service.sign_out(db, caller.token)
    response = Response(status_code=204)
    state.session_cookie.clear(response)
    return response


@router.post("/signout/everywhere", status_code=204, responses=UNAUTHORIZED)
async def sign_out_everywhere(state: State, db: DbSession, caller: CheckedSession) -> Response:
    """End every session of the signed-in user, on every device."""
    await service.sign_out_everywhere(db, caller.user.id)
    response = Response(status_code=204)
    state.session_cookie.clear(response)
    return response


NO_STORE = {"Cache-Control": "no-store"}


@router.get("/sessions", response_model=SessionList, responses=UNAUTHORIZED)
async def list_my_sessions(state: State, db: DbSession, caller: SignedIn) -> Response:
    """The signed-in person's live sessions, on every device, newest first.

    Each carries an opaque id to end it with ``DELETE /auth/sessions/{id}``; ``current``
    marks this request's own. Listing is not activity and slides no expiry.
    """
    found = await service.list_sessions(db, caller.user.id, state.policy)
    body = SessionList(
        sessions=[
            SessionSummary(
                id=row.id,
                createdAt=iso(row.created_at),
                expires=iso(ends),
                current=row.id == caller.session.id,
            )
            for row, ends in found
        ]
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


@router.delete(
    "/sessions/{session_id}",
    status_code=204,
    responses={
        **UNAUTHORIZED,
        403: {"description": "A missing or wrong CSRF token"},
        404: {"description": "The caller has no session with this id"},
    },
)
async def end_my_session(
    session_id: Annotated[str, Path(max_length=64)],
    state: State,
    db: DbSession,
    caller: CheckedSession,
) -> Response:
    """End one of the signed-in person's sessions (as ``POST /auth/signout`` does on its
    device), e.g. one left signed in elsewhere. Ending this request's own clears the cookie.

    Someone else's session id answers 404, exactly as one that doesn't exist.
    """
    await service.end_session(db, caller.user.id, session_id)
    response = Response(status_code=204, headers=NO_STORE)
    if session_id == caller.session.id:
        state.session_cookie.clear(response)
    return response


@router.delete(
    "/me",
    status_code=202,
    response_model=DeletionRequested,
    responses={
        **UNAUTHORIZED,
        403: {
            "description": "A wrong CSRF token, or a sign-in too long ago "
            "(`urn:codeflow:problem:reauthentication-required`: sign in again, then ask again)"
        },
    },
)
async def delete_me(state: State, db: DbSession, caller: CheckedSession) -> Response:
    """Ask for this account and everything CodeFlow holds about it to be erased.

    It takes a recent sign-in (``AUTH_REAUTH_WINDOW``, 10 minutes by default): a session
    opened longer ago answers 403 and goes on. Every session ends now; the erasure runs
    across the services and completes shortly. ``progress`` is where to follow it without
    a session: the janitor's ``GET /janitor/deletions/{deletionId}/progress``, through the
    gateway (404 until the janitor has recorded the deletion, a moment later).
    """
    user = caller.user
    deletion_id = await service.request_deletion(
        db,
        user,
        signed_in_at=caller.session.created_at,
        policy=state.policy,
        revoker=state.revoker,
    )
    body = DeletionRequested(
        userId=user.id,
        deletionId=str(deletion_id),
        progress=f"/api/janitor/deletions/{deletion_id}/progress",
    )
    response = JSONResponse(body.model_dump(), 202)
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
async def verify(
    request: Request, state: State, reader: ReadConnection, target: Service
) -> Response:
    """For the gateway: is this request's session valid, and who is it?

    200 carries ``X-User-Id`` and a JWT (``X-Auth-Token``) valid for a few minutes, whose
    audience is ``service`` (``codeflow-<service>``); anything else is 401. An expired
    session's row is deleted. Only the janitor's tokens may say ``admin``: for a user whose
    GitHub account's numeric id is in ``AUTH_ADMIN_GITHUB_IDS``.

    Most calls only read (one query on a Core connection, no transaction); a transaction is
    opened only when something is due: deleting an expired session, sliding the expiry,
    recording activity.
    """
    token = state.session_cookie.read(request)
    now = datetime.now(UTC)
    found = await service.peek_session(reader, token)
    # Asked before any write, while the read connection is held: it is given back below.
    admin = found is not None and target == "janitor" and await _is_admin(reader, state, found)
    who: tuple[str, str | None] | None = None
    if found is not None and service.writes_due(found, state.policy, now):
        await reader.close()  # give its connection back before taking one to write
        async with transaction(state.sessions) as db:
            active = await service.use_session(db, token, state.policy, now=now)
        if active is not None:
            who = (active.user.id, active.user.login)
    elif found is not None:
        who = (found.user_id, found.login)
    if who is None:
        return PROBLEMS[NotSignedIn].response(
            headers={"WWW-Authenticate": 'Cookie realm="codeflow"'}
        )
    user_id, login = who
    claims: dict[str, Any] = {}
    if login:
        claims["login"] = login
    if admin:
        claims["admin"] = True
    jwt = state.issuer.issue(user_id, extra_claims=claims, audience=service_audience(target))
    ttl = int(state.issuer.ttl.total_seconds())
    return JSONResponse(
        Verified(userId=user_id, token=jwt, expiresIn=ttl).model_dump(),
        headers={
            "X-User-Id": user_id,
            "X-Auth-Token": jwt,
            "Cache-Control": "no-store",
        },
    )


async def _is_admin(reader: ReadConnection, state: State, found: repository.Standing) -> bool:
    """Decided by GitHub's numeric user id: a login passes to whoever registers it next."""
    admins = state.settings.admin_github_ids
    return bool(admins) and await repository.github_id_of(reader, found.user_id) in admins


@router.get("/.well-known/jwks.json", tags=["keys"])
async def jwks(state: State) -> Response:
    """The public keys that verify CodeFlow's JWTs."""
    return JSONResponse(state.keyset.jwks(), headers={"Cache-Control": "public, max-age=300"})
