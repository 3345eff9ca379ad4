"""Shared HTTP error handling: every error leaves a service as `application/problem+json`.

Errors are types: a service raises its domain exceptions and maps each to a :class:`Problem`
in one place (``install_domain_problems``, which the service kit calls with the service's
``PROBLEMS``); the handlers that `install_problem_handlers(app)` adds render the rest (a
ProblemError of a shared HTTP dependency, validation errors, crashes). Each is an RFC 9457
problem with a stable `type`, never a stack trace.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Problem:
    """How one kind of domain error reads over HTTP: its status, the slug of its stable
    ``type`` and its title; the error's message is the ``detail``, and ``extensions`` (when
    given) adds members from the error's own attributes, as ``error_headers`` adds headers
    (a ``Retry-After`` the error knows)."""

    status: int
    slug: str
    title: str
    headers: Mapping[str, str] = field(default_factory=dict)
    extensions: Callable[[Any], Mapping[str, Any]] | None = None
    error_headers: Callable[[Any], Mapping[str, str]] | None = None

    @property
    def type(self) -> str:
        return problem_type(self.slug)

    def response(
        self, error: Exception | None = None, *, headers: Mapping[str, str] | None = None
    ) -> JSONResponse:
        """The problem of ``error`` (none: no detail), with ``headers`` added to its own."""
        return problem_response(
            self.status,
            self.type,
            self.title,
            str(error) if error is not None else None,
            headers={**self.headers, **self._headers_of(error), **(headers or {})},
            extensions=self.extensions(error) if self.extensions and error is not None else None,
        )

    def _headers_of(self, error: Exception | None) -> Mapping[str, str]:
        return self.error_headers(error) if self.error_headers and error is not None else {}

    async def handle(self, request: Request, exc: Exception) -> JSONResponse:
        return self.response(exc)


Problems = Mapping[type[Exception], Problem]
"""A service's domain errors and their problems; a subclass maps as its nearest mapped base."""


def install_domain_problems(app: FastAPI, problems: Problems) -> None:
    """Answer each of ``problems``' errors (and their subclasses) with its problem."""
    for error, problem in problems.items():
        app.add_exception_handler(error, problem.handle)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error `app` answers a problem document."""
    app.add_exception_handler(ProblemError, problem_error_handler)
    app.add_exception_handler(HTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)
