"""Shared CLI plumbing: building the app, printing JSON, turning errors into one line."""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from duis.errors import DuisError
from fir_sync.errors import FirSyncError
from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import Settings
from orchestrator.errors import OrchestratorError

console = Console()
err_console = Console(stderr=True)
USER_ERRORS: tuple[type[Exception], ...] = (OrchestratorError, FirSyncError, DuisError)
F = TypeVar("F", bound=Callable[..., Any])


def app_from_env() -> App:
    """The application wired from the environment (the CLI's only read of it)."""
    return bootstrap(Settings.from_env())


def print_json(data: Any) -> None:
    """Machine-readable output on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def fail(message: str, code: int = 2) -> None:
    """Print a one-line reason on stderr and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def user_errors(func: F) -> F:
    """Report the project's own errors as one line (exit 2), never as a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as err:
            fail(f"{err}".splitlines()[0] if str(err) else type(err).__name__)
        except FileNotFoundError as err:
            fail(f"file not found: {err.filename}")

    return wrapper  # type: ignore[return-value]
