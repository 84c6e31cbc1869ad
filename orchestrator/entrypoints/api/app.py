"""The FastAPI application: REST API, DUIS receiver, dashboard and metrics over one `App`."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from fastapi.templating import Jinja2Templates

from orchestrator.adapters.metrics import Metrics
from orchestrator.bootstrap import App
from orchestrator.entrypoints.api import (
    dashboard,
    problems,
    receiver,
    routes_admin,
    routes_campaigns,
    routes_catalogue,
    routes_fleet,
    routes_plans,
    routes_system,
)
from orchestrator.entrypoints.api.deps import ApiState
from orchestrator.entrypoints.api.middleware import (
    BodyTooLargeError,
    CutAtShutdownMiddleware,
    RequestContextMiddleware,
)
from orchestrator.service.wiring import Execution

TEMPLATES = Path(__file__).parent / "templates"
# Metrics are Prometheus (`/metrics`) and logs structlog; FastAPI's own OpenTelemetry hooks
# would look up the global providers on every request for nothing.
NO_OTEL: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
DESCRIPTION = """Operations API of the firmware rollout orchestrator.

Authenticate with `Authorization: Bearer <token>` (`fwo user token NAME`). Roles are
cumulative: viewer (read) ⊂ operator (sync, import, plan, create and run campaigns) ⊂
approver (approve, audit) ⊂ admin (users). Errors are `application/problem+json`.
`POST /duis/receiver` takes signed DUIS messages from the DCC; its authentication is the
DCC's XML signature."""


def create_app(app: App, execution: Execution | None = None) -> FastAPI:
    """Build the ASGI application around a wired `App` (nothing global, nothing at import).

    `execution` replaces the campaign execution wiring (a dry run's simulated clock and DSP);
    by default it is `app.execution()`, built on first use.
    """
    clock = execution.clock if execution is not None else app.clock()
    metrics = Metrics(app.engine, clock)
    api = FastAPI(title="fwo operations API", version="1", description=DESCRIPTION,
                  lifespan=_lifespan, docs_url=None, redoc_url=None, telemetry=NO_OTEL)
    _offline_docs(api)
    api.state.fwo = ApiState(app, metrics, Jinja2Templates(directory=str(TEMPLATES)),
                             execution)
    api.state.inbound_applier = receiver.new_applier(api.state.fwo)
    api.state.inbound_batcher = receiver.new_batcher(api.state.fwo, api.state.inbound_applier)
    api.state.problem_hook = dashboard.ui_problem
    problems.install(api)
    api.add_exception_handler(BodyTooLargeError, _too_large)
    settings = app.settings
    api.add_middleware(receiver.ReceiverPath, api=api)  # innermost: inside the two below
    api.add_middleware(RequestContextMiddleware, metrics=metrics, limit_for=lambda path: (
        settings.receiver_max_body_bytes if path.startswith("/duis/")
        else settings.api_max_body_bytes))
    api.add_middleware(CutAtShutdownMiddleware)  # outermost: sees the server's cancellation
    for router in (routes_system.router, receiver.router, routes_catalogue.router,
                   routes_fleet.router, routes_plans.router, routes_campaigns.router,
                   routes_admin.router, dashboard.public, dashboard.router):
        api.include_router(router)
    return api


def _offline_docs(api: FastAPI) -> None:
    """`/docs` from the Swagger UI assets shipped in the `swagger-ui-bundle` package
    (Apache-2.0, licence in its distribution): no CDN, so it works on a closed network."""
    api.mount("/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
              name="swagger-ui")

    @api.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=api.openapi_url or "/openapi.json", title=f"{api.title} - docs",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png")

    @api.get("/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


@asynccontextmanager
async def _lifespan(api: FastAPI) -> AsyncIterator[None]:
    if api.state.inbound_applier is not None:
        api.state.inbound_applier.start()
    yield
    await api.state.inbound_batcher.close()
    if api.state.inbound_applier is not None:
        api.state.inbound_applier.close()


async def _too_large(request: Request, err: Exception) -> Response:
    return problems.problem(413, "Request too large", str(err))
