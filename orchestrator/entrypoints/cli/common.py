"""Shared CLI plumbing: building the app, acting as a user, printing JSON."""
from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import Settings
from orchestrator.errors import AuthenticationError
from orchestrator.service import access, audit
from orchestrator.service.access import Principal

console = Console()
T = TypeVar("T")
ReasonOpt = Annotated[str, typer.Option(help="Why (recorded in the audit trail).")]
TokenOpt = Annotated[str, typer.Option(
    "--token", envvar="FWO_TOKEN", show_default=False,
    help="Your API token (or FWO_TOKEN): the command acts as that user, with its role.")]


def app_from_env() -> App:
    """The application wired from the environment (the CLI's only read of it)."""
    return bootstrap(Settings.from_env())


def acting_user(app: App, token: str) -> Principal:
    """The user a mutating command acts as: the owner of the given API token."""
    if not token:
        raise AuthenticationError("this command acts as a user: set FWO_TOKEN or pass --token "
                                  "(an API token, from `fwo user token NAME`)")
    return access.authenticate(app.uow(), token)


def login() -> str:
    """The operating-system login running the CLI (recorded beside the user)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def audited(app: App, user: Principal, action: str, target: str, reason: str,
            call: Callable[[audit.Entry], T], data: dict[str, Any] | None = None) -> T:
    """Run a command's handler, which writes its audit `Entry` inside its own transaction;
    a refusal is recorded in the audit chain on its own, as on the API."""
    context = {"via": "cli", "login": login(), **(data or {})}
    entry = audit.Entry(user, action, target, reason, app.clock().now(), context)
    return audit.attempt(app.uow, app.clock(), user, action, target, reason,
                         lambda: call(entry), context)


def operated(app: App, token: str, action: str, target: str, reason: str,
             call: Callable[[audit.Entry], T], data: dict[str, Any] | None = None) -> T:
    """An operator's command (catalogue sync, fleet import and refresh, a stored plan) as
    the token's user: the role is checked (a denial recorded), then `audited`."""
    user = acting_user(app, token)

    def work(entry: audit.Entry) -> T:
        access.require(user, "operate")
        return call(entry)

    return audited(app, user, action, target, reason, work, data)


def print_json(data: Any) -> None:
    """Machine-readable output on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")

