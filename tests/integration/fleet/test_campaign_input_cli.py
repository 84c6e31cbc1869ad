"""Bad campaign input on the CLI (`campaign create`, `plan`, `dry-run`): one line, exit 2, no
campaign stored; one budget syntax everywhere, overriding only its own SR type."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from orchestrator.entrypoints.cli.main import app as cli

from .conftest import catalogue_rows, cli_as_admin, device_row, write_fleet

runner = CliRunner()

# issue 13 (Why, point 3) and issue 17 (point 5): arguments and a word the one line must hold
BAD_CREATE = [
    (("--waves", "abc"), "'abc'"), (("--waves", "10%,5%"), "grow"),
    (("--waves", "150%"), "150"), (("--waves", "0%,100%"), "above 0"),
    (("--waves", "nan%"), "nan"), (("--waves", "inf%"), "inf"), (("--waves", "1e999%"), "1e999"),
    (("--window", "25:00-05:00"), "HH:MM"), (("--window", "01:00"), "HH:MM"),
    (("--window", ""), "HH:MM"), (("--window", "01:00-01:00"), "empty"),
    (("--timezone", "Mars/Olympus"), "Mars/Olympus"),
    (("--window", "01:00-05:00", "--timezone", "Mars/Olympus"), "Mars/Olympus"),
    (("--budget", "11.9=10/60"), "11.9"), (("--budget", "11.1=5/0"), "above 0"),
    (("--budget", "11.1=5/nan"), "finite"), (("--budget", "11.1=100"), None),
    (("--name", ""), "name"), (("--name", "   "), "name"),
    (("--select", "device_type=GSME"), "matches no device"),
    (("--select", "regoin=north"), "unknown key 'regoin'"),
    (("--select", "tag:region=west"), "matches no device"),
]


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI on a fresh database with the small catalogue and four devices on entry 1."""
    from fir_sync.testing import write_pair

    monkeypatch.setenv("FWO_DATABASE_URL", database_url)
    monkeypatch.setenv("FWO_DATA_DIR", str(tmp_path / "data"))
    cli_as_admin(monkeypatch)
    cpl, fir = write_pair(tmp_path, *catalogue_rows())
    assert run("catalogue", "sync", "--cpl", str(cpl), "--fir", str(fir))[0] == 0
    fleet = write_fleet(tmp_path / "f.csv", [device_row(n) for n in range(1, 5)])
    assert run("fleet", "import", str(fleet))[0] == 0
    return database_url


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def rows(database_url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


@pytest.mark.parametrize("args,needle", BAD_CREATE)
def test_bad_campaign_input_is_one_line_and_exit_2(env: str, args: tuple[str, ...],
                                                   needle: str | None) -> None:
    """Each bad value is refused before anything is stored: exit 2, one line, no traceback."""
    named = args if "--name" in args else ("--name", "pilot", *args)
    code, out = run("campaign", "create", *named)
    if needle is None:  # the control: a good value is accepted
        assert code == 0, out
        return
    assert code == 2, out
    assert needle in out and "Traceback" not in out and len(out.strip().splitlines()) == 1
    assert rows(env, "select count(*) from campaigns") == [(0,)]


def test_one_budget_overrides_only_its_own_sr_type(env: str) -> None:
    """`--budget 11.1=50/60` (the README's form) leaves 11.4, 11.3 and 11.2 at their defaults."""
    code, out = run("campaign", "create", "--name", "pilot", "--budget", "11.1=50/60", "--json")
    assert code == 0, out
    (policy,) = rows(env, "select policy from campaigns")[0]
    stored = json.loads(policy) if isinstance(policy, str) else policy
    assert {b["sr_type"]: (b["limit"], b["period_s"]) for b in stored["budgets"]} == {
        "11.1": (50, 60.0), "11.4": (100, 3600.0), "11.3": (20_000, 3600.0),
        "11.2": (20_000, 3600.0)}


def test_nothing_to_upgrade_is_refused(env: str) -> None:
    """A selection of devices all up to date or already in a campaign makes no campaign."""
    assert run("campaign", "create", "--name", "first")[0] == 0
    code, out = run("campaign", "create", "--name", "second")
    assert code == 2 and "nothing to upgrade" in out and "4 already in another campaign" in out
    assert rows(env, "select count(*) from campaigns") == [(1,)]


def test_plan_takes_the_same_budget_syntax(env: str) -> None:
    """`fwo plan --budget SR=LIMIT/SECONDS`: bad ones refused, a good one overrides its type."""
    for spec, needle in (("11.1=5/0", "above 0"), ("11.9=3", "11.9"), ("11.1=nan/60", "whole")):
        code, out = run("plan", "--budget", spec)
        assert code == 2 and needle in out and len(out.strip().splitlines()) == 1, out
    code, out = run("plan", "--budget", "11.1=1/86400", "--json")
    assert code == 0, out
    budgets = json.loads(out)["summary"]["campaign"]["budgets"]
    assert budgets["11.1"] == {"limit": 1, "period_s": 86400.0}
    assert budgets["11.3"] == {"limit": 20_000, "period_s": 3600.0}


@pytest.mark.parametrize("args,needle", [
    (("--faults", "nonsense"), "known: none, default"), (("--waves", "nan%"), "nan"),
    (("--waves", "10%,5%"), "grow"), (("--budget", "11.1=5/0"), "above 0"),
    (("--budget", "11.9=10/60"), "11.9")])
def test_dry_run_refuses_bad_input_before_generating_anything(
        args: tuple[str, ...], needle: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`fwo dry-run` checks its faults, waves and budgets first: exit 2, one line."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    code, out = run("dry-run", "--devices", "20", "--entries", "10", *args)
    assert code == 2 and needle in out and "Traceback" not in out, out
    assert not list(tmp_path.glob("fwo-dry-run-*")), "nothing is generated for bad input"
