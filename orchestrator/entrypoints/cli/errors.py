"""How every `fwo` command reports a user's error: one `error: ...` line on stderr, exit 2.

Free of orchestrator wiring (no bootstrap, no database), so the `fwo image` / `fwo duis`
commands that work anywhere use it too.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from duis.errors import DuisError
from fir_sync.errors import FirSyncError
from orchestrator.errors import OrchestratorError

err_console = Console(stderr=True)
USER_ERROR_EXIT = 2
# What a user can cause and fix: the project's own errors and bad values (a key that is not
# hex, a time without a zone, a wrong key password); files are reported apart.
USER_ERRORS: tuple[type[Exception], ...] = (OrchestratorError, FirSyncError, DuisError,
                                            ValueError)
F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = USER_ERROR_EXIT) -> NoReturn:
    """Print a one-line reason on stderr and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def user_errors(func: F) -> F:
    """Report a user's error as one line (exit 2), never as a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as err:
            fail(str(err).splitlines()[0] if str(err) else type(err).__name__)
        except FileNotFoundError as err:
            fail(f"file not found: {err.filename}")
        except OSError as err:
            fail(f"cannot read or write {err.filename or ''}: {err.strerror or err}".strip())

    return wrapper  # type: ignore[return-value]
