"""`fwo image ...` and `fwo duis ...`: GBCS images and DUIS requests from the command line."""
from __future__ import annotations

import typer

image_app = typer.Typer(help="Build, inspect and verify GBCS Upgrade Images.", no_args_is_help=True)
duis_app = typer.Typer(help="Build, verify and inspect DUIS XML.", no_args_is_help=True)
