"""docker-compose.yml stays runnable: every fwo service names a real CLI command."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main
import yaml

from orchestrator.entrypoints.cli.main import app

ROOT = Path(__file__).resolve().parents[3]


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def resolve(argv: list[str]) -> Any:
    """Walk the CLI tree along argv's leading words; fail if a word is not a command."""
    command = typer.main.get_command(app)
    for word in argv:
        if word.startswith("-") or not hasattr(command, "commands"):
            break
        sub = command.commands.get(word)
        assert sub is not None, f"`fwo {' '.join(argv)}`: no command {word!r}"
        command = sub
    return command


def test_every_fwo_service_runs_an_existing_command() -> None:
    """Services built from our image run `fwo <command>` that exists with those options."""
    services = compose()["services"]
    ours = {n: s for n, s in services.items() if s.get("image") == "fwo:latest"}
    assert {"worker", "beat", "api", "dsp"} <= set(ours)
    for name, service in ours.items():
        argv = service["command"]
        command = resolve(argv)
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        for word in argv:
            if word.startswith("--"):
                assert word in options, f"service {name}: {command.name} has no option {word}"


def test_infrastructure_services_have_health_checks() -> None:
    """postgres and redis are health-checked and the app services wait for them."""
    services = compose()["services"]
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["redis"]
    assert services["worker"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_api_is_published_and_health_checked() -> None:
    """The API serves on port 8000 with a /healthz check; the DSP posts to its receiver."""
    services = compose()["services"]
    api, dsp = services["api"], services["dsp"]
    assert api["command"][:1] == ["serve"] and "8000:8000" in api["ports"]
    assert "/healthz" in " ".join(api["healthcheck"]["test"])
    assert "http://api:8000/duis/receiver" in dsp["command"]
    assert dsp["depends_on"]["api"]["condition"] == "service_healthy"


def test_the_image_installs_every_package_the_cli_needs() -> None:
    """The Dockerfile copies each top-level package into the image."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("duis", "fir_sync", "orchestrator", "simulators"):
        assert f"COPY {package} {package}" in dockerfile
