"""Every `fwo` command reports a user's error the same way: one `error:` line, exit 2."""
from __future__ import annotations

import pytest
import typer

from duis.errors import DuisError
from fir_sync.errors import FirSyncError
from orchestrator.entrypoints.cli.errors import user_errors
from orchestrator.errors import OrchestratorError


@pytest.mark.parametrize("error", [
    OrchestratorError("no such campaign\nmore detail"), FirSyncError("bad CPL"),
    DuisError("bad signature"), ValueError("key must be hexadecimal"),
    FileNotFoundError(2, "No such file or directory", "cpl.xlsx"),
    PermissionError(13, "Permission denied", "out.xml"),
], ids=lambda e: type(e).__name__)
def test_a_user_error_exits_2_with_one_line(error: Exception,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Orchestrator, catalogue, DUIS, value and file errors all exit 2 with one line."""

    @user_errors
    def command() -> None:
        raise error

    with pytest.raises(typer.Exit) as exited:
        command()
    assert exited.value.exit_code == 2
    said = capsys.readouterr().err.strip()
    assert said.startswith("error:") and "\n" not in said


def test_anything_else_is_not_hidden() -> None:
    """A programming error is not dressed up as a user's error."""

    @user_errors
    def command() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        command()
