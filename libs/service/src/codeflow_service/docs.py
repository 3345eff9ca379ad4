"""The interactive API docs (Swagger UI): in development only, from files the service serves.

FastAPI's own page loads Swagger UI from a CDN; here its files come from the
``swagger-ui-bundle`` package, so the page runs no script from another origin. Outside
development there is no page at all; the OpenAPI document itself stays public.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]


def install_api_docs(app: FastAPI, *, name: str, environment: str) -> None:
    """Serve ``/<name>/docs`` and its files, in development only."""
    if environment != "development" or app.openapi_url is None:
        return
    files = f"/{name}/docs/static"
    app.mount(files, StaticFiles(directory=swagger_ui_path), name=f"{name}-docs-static")
    openapi_url = app.openapi_url

    @app.get(f"/{name}/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title}: API",
            swagger_js_url=f"{files}/swagger-ui-bundle.js",
            swagger_css_url=f"{files}/swagger-ui.css",
            swagger_favicon_url=f"{files}/favicon-32x32.png",
        )
