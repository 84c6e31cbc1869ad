"""Misconfiguration is loud at start: a worker or beat on the in-process broker, or a worker
that could not send (no DSP URL, no keys, no image directory), refuses to start with one
line and exit 2 instead of running and never moving a campaign."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.entrypoints.cli.main import app


def _fwo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *argv: str, **env: str
         ) -> tuple[int, str]:
    monkeypatch.setenv("FWO_DATA_DIR", str(tmp_path / "fwo"))
    for name in ("FWO_BROKER_URL", "FWO_DSP_URL", "FWO_KEYS_DIR", "FWO_IMAGE_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, list(argv))
    return result.exit_code, result.output


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_the_in_process_broker_is_refused_across_processes(
        process: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """On the default memory:// broker, `fwo worker` and `fwo beat` refuse to start."""
    code, out = _fwo(monkeypatch, tmp_path, process)
    assert code == 2
    assert "refuses the in-process broker 'memory://'" in out and "fwo run" in out


def test_a_worker_that_could_not_send_refuses_to_start(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """On a real broker, a worker with no DSP URL, no keys and no images names all three."""
    code, out = _fwo(monkeypatch, tmp_path, "worker", FWO_BROKER_URL="redis://127.0.0.1:6379/4",
                     FWO_KEYS_DIR=str(tmp_path / "nokeys"), FWO_IMAGE_DIR=str(tmp_path / "no"))
    text = " ".join(out.split())
    assert code == 2 and "fwo worker cannot dispatch campaigns" in text
    assert "FWO_DSP_URL is not set" in text and "keys:" in text
    assert "is not a directory" in text


def test_a_worker_with_an_unknown_send_order_or_no_concurrency_refuses_to_start(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`FWO_SEND_ORDER` must be target or originator, `FWO_SEND_CONCURRENCY` at least 1;
    the worker names both at start, not at its first dispatch."""
    code, out = _fwo(monkeypatch, tmp_path, "worker", FWO_BROKER_URL="redis://127.0.0.1:6379/4",
                     FWO_SEND_ORDER="sideways", FWO_SEND_CONCURRENCY="0")
    text = " ".join(out.split())
    assert code == 2 and "FWO_SEND_ORDER='sideways': use target" in text
    assert "FWO_SEND_CONCURRENCY=0: at least 1" in text


@pytest.mark.parametrize(("argv", "said"), [
    (("--pool", "gevent"), "--pool 'gevent': give one of prefork, threads"),
    (("--concurrency", "0"), "--concurrency 0: give 1 or more"),
])
def test_a_worker_with_an_unknown_pool_or_no_task_slots_refuses_to_start(
        argv: tuple[str, ...], said: str, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    """`fwo worker --pool` is prefork or threads, and `--concurrency` at least 1."""
    code, out = _fwo(monkeypatch, tmp_path, "worker", *argv,
                     FWO_BROKER_URL="redis://127.0.0.1:6379/4")
    assert code == 2 and said in " ".join(out.split())
