"""ASGI entry point for servers: `uvicorn --factory orchestrator.entrypoints.api.asgi:build`."""
from __future__ import annotations

from fastapi import FastAPI

from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import Settings


def build(app: App | None = None) -> FastAPI:
    """The API over the given App, or one wired from the `FWO_*` environment."""
    from orchestrator.entrypoints.api.app import create_app
    from orchestrator.logging import configure_logging

    if app is None:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        app = bootstrap(settings)
    return create_app(app)
