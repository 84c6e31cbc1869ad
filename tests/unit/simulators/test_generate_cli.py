"""`fwo sim generate`: summary, JSON manifest and one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from orchestrator.entrypoints.cli.sim_cmds import app

runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["generate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_generate_prints_a_summary_and_writes_the_files(tmp_path: Path) -> None:
    """The command writes the data set and prints the counts."""
    code, out, _ = _invoke("--entries", "40", "--devices", "200", "--seed", "3",
                           "--out", str(tmp_path))
    assert code == 0
    assert "CPL entries" in out and "40" in out
    assert {"cpl.xlsx", "fir.xlsx", "fleet.csv", "manifest.json", "images", "keys"} <= {
        p.name for p in tmp_path.iterdir()}


def test_json_output_is_the_manifest(tmp_path: Path) -> None:
    """With --json, stdout is exactly the manifest written to disk."""
    code, out, _ = _invoke("--entries", "12", "--devices", "30", "--seed", "5",
                           "--out", str(tmp_path), "--json")
    assert code == 0
    data = json.loads(out)
    assert data == json.loads((tmp_path / "manifest.json").read_text())
    assert data["counts"]["entries"] == 12 and data["counts"]["devices"] == 30


def test_bad_input_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    """Zero entries, negative devices or an unwritable --out give a one-line reason."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args in (("--entries", "0"), ("--devices", "-5"), ("--image-size", "3")):
        code, out, err = _invoke(*args, "--out", str(tmp_path / "out"))
        assert code == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1
        assert "Traceback" not in out + err
    code, _, err = _invoke("--entries", "3", "--devices", "0", "--out", str(blocker))
    assert code == 2 and err.startswith("error: cannot write")


def test_importing_the_cli_module_does_not_import_simulators() -> None:
    """Production code loads simulators only when a sim command runs."""
    probe = ("import sys, orchestrator.entrypoints.cli.sim_cmds; "
             "print(any(m.startswith('simulators') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
