"""Shared HTTP error handling: every error leaves a service as `application/problem+json`.

Errors are types: raise ProblemError (or map a domain exception to one) and the handlers that
`install_problem_handlers(app)` adds render it as an RFC 9457 problem with a stable `type`,
never a stack trace.
"""

from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"
VALIDATION_FAILED = "urn:codeflow:problem:validation-failed"


def problem_type(slug: str) -> str:
    """The stable `type` URI of one kind of problem, e.g. `urn:codeflow:problem:not-found`."""
    return f"urn:codeflow:problem:{slug}"


class ProblemError(HTTPException):
    """An HTTP error that renders as a problem document.

    It is an HTTPException, so even an app without the problem handlers answers with the
    right status and headers.
    """

    def __init__(
        self,
        status: int,
        type: str,
        title: str,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(status, detail or title, dict(headers) if headers else None)
        self.type = type
        self.title = title
        self.problem_detail = detail
        self.extensions = dict(extensions or {})


def problem_response(
    status: int,
    type: str = "about:blank",
    title: str | None = None,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """An `application/problem+json` response."""
    body: dict[str, Any] = {**(extensions or {}), "type": type, "status": status}
    body["title"] = title or HTTPStatus(status).phrase
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status, headers=headers, media_type=PROBLEM_CONTENT_TYPE)


async def problem_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Render a ProblemError."""
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status_code,
        exc.type,
        exc.title,
        exc.problem_detail,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Render a plain HTTPException (unknown path, wrong method, ...) as `about:blank`."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304}:  # no body allowed
        return Response(status_code=exc.status_code, headers=exc.headers)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    return problem_response(exc.status_code, detail=detail, headers=exc.headers)


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A 422 problem that names each offending field (the input values are not echoed)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(tuple(error["loc"])), "loc": list(error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]
    fields = ", ".join(dict.fromkeys(error["field"] for error in errors))
    return problem_response(
        422,
        VALIDATION_FAILED,
        "Request validation failed",
        f"Invalid: {fields}" if fields else None,
        extensions={"errors": errors},
    )


async def unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A bare 500 problem; the exception itself is logged by the server, not shown."""
    return problem_response(500)


ProblemHandler = Callable[[Request, Exception], Awaitable[JSONResponse]]


def problem_handler_for(status: int, type: str, title: str) -> ProblemHandler:
    """A handler that renders a domain exception as a problem with its message as detail.

    ``app.add_exception_handler(RepositoryNotFound, problem_handler_for(404, ...))``
    """

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(status, type, title, str(exc) or None)

    return handler


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error `app` answers a problem document."""
    app.add_exception_handler(ProblemError, problem_error_handler)
    app.add_exception_handler(HTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)
