"""`/healthz` (public liveness and database check) and `/metrics` (Prometheus)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from orchestrator.entrypoints.api.deps import Viewer, state

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="Health check (no authentication)")
def healthz(request: Request) -> Any:
    """200 when the database answers, else 503."""
    try:
        with state(request).app.engine.connect() as connection:
            connection.execute(text("select 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": False}, status_code=503)
    return {"status": "ok", "database": True}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request, _: Viewer) -> Response:
    """Process metrics plus database-derived gauges, read at scrape time."""
    body, content_type = state(request).metrics.render()
    return Response(body, media_type=content_type)
