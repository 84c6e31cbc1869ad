"""`fwo plan`: plan every selected device's upgrade path."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach `fwo plan` to the root app."""
