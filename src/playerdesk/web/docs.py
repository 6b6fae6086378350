"""The interactive API docs, served from packaged assets: no CDN, works offline.

fastapi-offline ships a current Swagger UI build as package data; we only use its files.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/api/docs/assets"
DOCS_URL = "/api/docs"


def install_docs(app: FastAPI, *, openapi_url: str) -> None:
    router = APIRouter(include_in_schema=False)

    @router.get(DOCS_URL)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title="PlayerDesk API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
