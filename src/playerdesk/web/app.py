"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from playerdesk import __version__
from playerdesk.runtime import Runtime, build_runtime, freeze_long_lived_objects
from playerdesk.settings import Settings
from playerdesk.web import console, health, helpcenter, webhooks
from playerdesk.web.api.v1 import router as api_v1
from playerdesk.web.chat import console_socket, demo_casino, widget_api, widget_socket
from playerdesk.web.docs import install_docs
from playerdesk.web.errors import install_error_handlers
from playerdesk.web.middleware import BodySizeLimit, RequestContext, SecurityHeaders
from playerdesk.web.schemas.common import Problem

STATIC_DIR = Path(__file__).parent / "static"
UPLOAD_OVERHEAD_BYTES = 64 * 1024
OPENAPI_URL = "/api/v1/openapi.json"


BackgroundTask = Callable[[Runtime], Coroutine[Any, Any, None]]


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    background: Sequence[BackgroundTask] = (),
) -> FastAPI:
    """Build the app. Pass `runtime` to share one (tests); otherwise it is built on startup.

    `background` tasks run for the life of the server: the CLI hands in the job runner when
    jobs run in-process (embedded SQLite), since the web layer may not import jobs.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        active = runtime or build_runtime(settings)
        app.state.runtime = active
        hub_ready = asyncio.Event()
        tasks = [asyncio.create_task(active.hub.pump(active.bus, ready=hub_ready))]
        tasks += [asyncio.create_task(task(active)) for task in background]
        await hub_ready.wait()
        if owned:  # a server process, not a test's app around a shared runtime
            freeze_long_lived_objects()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if owned:
                await active.close()

    app = FastAPI(
        title="PlayerDesk",
        version=__version__,
        lifespan=lifespan,
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
    )
    if runtime is not None:
        app.state.runtime = runtime

    def openapi() -> dict[str, Any]:
        """FastAPI's document, plus the Problem schema that every 4XX response refers to."""
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = FastAPI.openapi(app)  # builds the document and caches it on the app
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(api_v1)
    app.include_router(console.router)
    app.include_router(widget_api.router)
    app.include_router(widget_socket.router)
    app.include_router(console_socket.router)
    app.include_router(demo_casino.router)
    app.include_router(helpcenter.router)
    app.include_router(webhooks.router)
    install_docs(app, openapi_url=OPENAPI_URL)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    upload_limit = settings.attachment_max_bytes + UPLOAD_OVERHEAD_BYTES
    form_upload_limit = helpcenter.request_limit(settings)

    def limit_for(path: str) -> int:
        if path.startswith("/api/v1/tickets/") and path.endswith("/attachments"):
            return max(upload_limit, settings.max_request_bytes)
        if path in helpcenter.FORM_PATHS:
            return max(form_upload_limit, settings.max_request_bytes)
        return settings.max_request_bytes

    if settings.widget_origins:
        # Casino sites call the widget endpoints from their own origin; bearer tokens only,
        # so credentials (cookies) are never allowed cross-origin.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.widget_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(BodySizeLimit, limit_for=limit_for)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext)
    return app
