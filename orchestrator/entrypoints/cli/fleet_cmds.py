"""`fwo fleet ...`: import and show the fleet inventory."""
from __future__ import annotations

import typer

app = typer.Typer(help="Import and show the fleet inventory.", no_args_is_help=True)
