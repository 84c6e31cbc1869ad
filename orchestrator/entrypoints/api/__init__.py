"""The operations surface over HTTP: REST API, DUIS receiver, dashboard, metrics."""
from __future__ import annotations

from orchestrator.entrypoints.api.app import create_app

__all__ = ["create_app"]
