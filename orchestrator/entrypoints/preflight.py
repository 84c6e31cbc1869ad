"""Checks a process makes at start, so misconfiguration is loud where it is made.

A worker, beat and `fwo serve` are separate processes: on the default `memory://` broker each
has its own queue and they never see each other's tasks, so a campaign started through one
would never be dispatched by another. A worker that cannot sign (no keys), reach the DSP (no
`FWO_DSP_URL`) or find its images would fail only in its own log: it refuses to start.
"""
from __future__ import annotations

from orchestrator.adapters.keystore import KeyStore
from orchestrator.config import Settings
from orchestrator.errors import ConfigurationError
from orchestrator.service.wiring import sending_problems


def check_broker(settings: Settings, process: str) -> None:
    """Refuse an in-process broker for a process that must talk to other processes."""
    if settings.broker_url.startswith("memory://"):
        raise ConfigurationError(
            f"{process} refuses the in-process broker {settings.broker_url!r}: separate "
            "worker, beat and serve processes never see each other's tasks on it; set "
            "FWO_BROKER_URL=redis://HOST:6379/0, or run everything in one process with `fwo run`")


def dispatch_problems(settings: Settings) -> list[str]:
    """What would stop this process from sending a campaign's requests, one line each."""
    problems = []
    if not settings.dsp_url:
        problems.append("FWO_DSP_URL is not set: no request can reach the DSP")
    try:
        KeyStore(settings.keys_dir, settings.import_supplier_eui, settings.gas_supplier_eui)
    except ConfigurationError as err:
        problems.append(f"keys: {err}")
    if not settings.image_dir.is_dir():
        problems.append(f"FWO_IMAGE_DIR {str(settings.image_dir)!r} is not a directory: no "
                        "firmware image can be sent")
    return problems + sending_problems(settings.send_order, settings.send_concurrency)


def check_dispatch(settings: Settings, process: str) -> None:
    """Refuse to start a process that dispatches campaigns but could not send."""
    problems = dispatch_problems(settings)
    if problems:
        raise ConfigurationError(f"{process} cannot dispatch campaigns: " + "; ".join(problems))
