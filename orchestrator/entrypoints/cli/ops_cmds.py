"""`fwo user ...`, `fwo audit ...` and `fwo serve`: access, the audit trail, the API server."""
from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orchestrator.bootstrap import App
from orchestrator.entrypoints.cli.common import (
    TokenOpt,
    acting_user,
    app_from_env,
    console,
    login,
    print_json,
)
from orchestrator.entrypoints.cli.errors import err_console, user_errors
from orchestrator.service import access, audit
from orchestrator.service.access import Principal

user_app = typer.Typer(help="API users, roles and tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
ReasonOpt = Annotated[str, typer.Option(help="Why (recorded in the audit trail).")]
RoleOpt = Annotated[str, typer.Option(help="viewer, operator, approver or admin.")]


def register(app: typer.Typer) -> None:
    """Attach `fwo user`, `fwo audit` and `fwo serve` to the root app."""
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")
    app.command("serve")(serve)


def _admin(app: App, token: str) -> Principal:
    """The admin a user command acts as (its token); without one, the local bootstrap."""
    return acting_user(app, token) if token else access.bootstrap_principal(login())


def _print_token(data: dict[str, str], json_out: bool) -> None:
    if json_out:
        print_json(data)
        return
    console.print(f"Token for [bold]{data['name']}[/] ({data['role']}); shown once, store it "
                  "now:", highlight=False)
    console.print(data["token"], highlight=False, soft_wrap=True)


@user_app.command("create")
@user_errors
def create(name: str, role: RoleOpt = "viewer", reason: ReasonOpt = "",
           token: TokenOpt = "", json_out: JsonOpt = False) -> None:
    """Create a user with a role and print its first token (once). Needs an admin's token,
    except the first admin, which the local shell creates (with database access)."""
    app = app_from_env()
    data = access.create_user(app.uow(), name, role, _admin(app, token), app.clock().now(),
                              reason)
    _print_token(data, json_out)


@user_app.command("token")
@user_errors
def token(name: str, reason: ReasonOpt = "", token: TokenOpt = "",
          json_out: JsonOpt = False) -> None:
    """Issue another token for a user and print it (once; admin)."""
    app = app_from_env()
    _print_token(access.issue_token(app.uow(), name, acting_user(app, token),
                                    app.clock().now(), reason), json_out)


@user_app.command("revoke")
@user_errors
def revoke(name: str, reason: ReasonOpt = "", token: TokenOpt = "") -> None:
    """Revoke every token of a user (admin)."""
    app = app_from_env()
    data = access.revoke_tokens(app.uow(), name, acting_user(app, token), app.clock().now(),
                                reason)
    console.print(f"{data['revoked']} token(s) of {name} revoked")


@user_app.command("role")
@user_errors
def role(name: str, new_role: Annotated[str, typer.Argument(metavar="ROLE")],
         reason: ReasonOpt = "", token: TokenOpt = "") -> None:
    """Change a user's role (admin)."""
    app = app_from_env()
    access.set_role(app.uow(), name, new_role, acting_user(app, token), app.clock().now(),
                    reason)
    console.print(f"{name} is now {new_role}")


@user_app.command("list")
@user_errors
def list_users(json_out: JsonOpt = False) -> None:
    """Users with role and live token count."""
    rows = access.list_users(app_from_env().uow())
    if json_out:
        print_json(rows)
        return
    table = Table(title="Users")
    for column in ("name", "role", "tokens", "created", "by"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["name"], r["role"], str(r["tokens"]), r["created_at"][:19],
                      r["created_by"])
    console.print(table)


@audit_app.command("head")
@user_errors
def head(json_out: JsonOpt = False) -> None:
    """Print the chain's head hash: keep it outside the database for `verify --head`."""
    found = audit.head(app_from_env().uow())
    if json_out:
        print_json(found)
    else:
        console.print(found["hash"], highlight=False, soft_wrap=True)


@audit_app.command("verify")
@user_errors
def verify(saved_head: Annotated[str | None, typer.Option(
               "--head", help="A head saved earlier (`fwo audit head`): the chain must still "
                              "lead through it (detects a rewrite with recomputed hashes).")
           ] = None,
           json_out: JsonOpt = False) -> None:
    """Walk the hash chain; exit 1 naming the first broken row if it was altered."""
    result = audit.verify(app_from_env().uow(), saved_head)
    if json_out:
        print_json(result.to_dict())
    elif result.ok:
        upto = " through the saved head" if saved_head else ""
        console.print(f"audit chain intact{upto}: {result.rows} rows, head "
                      f"{result.head_hash}", highlight=False)
    elif result.first_broken_id is None:
        err_console.print(f"audit chain rewritten: {result.problem}", highlight=False)
    else:
        err_console.print(f"audit chain broken at row {result.first_broken_id}: "
                          f"{result.problem} ({result.rows} rows verified before it)",
                          highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("show")
@user_errors
def show(limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
         target: Annotated[str | None, typer.Option(help="Only this target.")] = None,
         json_out: JsonOpt = False) -> None:
    """The newest audit rows."""
    rows = audit.entries(app_from_env().uow(), limit, 0, target)
    if json_out:
        print_json(rows)
        return
    table = Table(title="Audit trail (newest first)")
    for column in ("id", "at", "actor", "action", "target", "outcome", "reason"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r["id"]), r["at"][:19], r["actor"], r["action"], r["target"],
                      r["outcome"], r["reason"])
    console.print(table)


@user_errors
def serve(host: Annotated[str | None, typer.Option(help="Interface (FWO_API_HOST).")] = None,
          port: Annotated[int | None, typer.Option(help="Port (FWO_API_PORT).")] = None,
          workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1) -> None:
    """Run the REST API, dashboard, /metrics and the DUIS receiver (uvicorn)."""
    import math

    import uvicorn

    from orchestrator.entrypoints.api.asgi import build
    from orchestrator.entrypoints.runtime import exit_abandoning_requests, server_config
    from orchestrator.logging import configure_logging

    app = app_from_env()
    configure_logging(app.settings.log_level)
    if app.settings.broker_url.startswith("memory://"):
        err_console.print("warning: fwo serve dispatches nothing; on the in-process broker "
                          "(FWO_BROKER_URL memory://) no separate worker can run its campaigns: "
                          "use `fwo run`, or a worker and beat on a shared broker")
    bind_host, bind_port = host or app.settings.api_host, port or app.settings.api_port
    if workers > 1:
        app.close()
        uvicorn.run("orchestrator.entrypoints.api.asgi:build", factory=True, host=bind_host,
                    port=bind_port, workers=workers, proxy_headers=True, access_log=False,
                    timeout_graceful_shutdown=math.ceil(app.settings.shutdown_grace_s))
        return
    uvicorn.Server(server_config(app, build(app), bind_host, bind_port)).run()
    exit_abandoning_requests()
