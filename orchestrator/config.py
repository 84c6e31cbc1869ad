"""Settings: one frozen object built once from `FWO_*` environment variables."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from orchestrator.errors import ConfigurationError

ENV_PREFIX = "FWO_"
DUIS_XSD_OFF = ("DUIS schema validation is off (the strict DUIS parser still checks every "
                "message); set FWO_DUIS_XSD to the DCC's DUIS XSD file to turn it on")


@dataclass(frozen=True)
class Settings:
    """Everything the application is configured with; passed into bootstrap, never global."""

    data_dir: Path = Path(".fwo-data")
    database_url: str = ""
    broker_url: str = "memory://"
    redis_url: str = ""
    catalogue_cpl_source: str = ""
    catalogue_fir_source: str = ""
    catalogue_sync_interval_s: int = 86400
    catalogue_max_removed_share: float = 0.10  # a sync removing more is refused
    catalogue_max_file_bytes: int = 50 * 1024 * 1024  # fir_sync.parse.Limits, one each
    catalogue_max_uncompressed_bytes: int = 200 * 1024 * 1024
    catalogue_max_zip_entries: int = 1000
    catalogue_max_compression_ratio: int = 100
    catalogue_max_rows: int = 100_000
    catalogue_max_columns: int = 500
    catalogue_max_parse_seconds: float = 120.0
    catalogue_source_patterns: str = ""  # comma-separated globs API callers' sources must match
    fetch_token: str = ""
    fetch_username: str = ""
    fetch_password: str = ""
    fetch_timeout_s: float = 30.0
    fetch_retries: int = 3
    fetch_credential_hosts: str = ""  # comma-separated hosts that may receive credentials
    fetch_allow_http_hosts: str = ""  # hosts that may be fetched over plain HTTP (no credentials)
    fetch_allow_private_hosts: str = ""  # private/loopback hosts or IPs that may be fetched
    fetch_max_bytes: int = 50 * 1024 * 1024
    fetch_max_seconds: float = 300.0  # a download still running after this is refused
    log_level: str = "INFO"
    dsp_url: str = ""
    keys_dir: Path = Path("keys")
    image_dir: Path = Path("images")
    import_supplier_eui: str = "90-B3-D5-1F-30-01-00-00"
    gas_supplier_eui: str = "90-B3-D5-1F-30-01-00-00"  # one User may hold both roles
    dcc_eui: str = "90-B3-D5-1F-30-00-00-02"
    reconcile_interval_s: int = 60
    dispatch_batch: int = 2000
    send_order: str = "target"  # counters increase per target, or per originator (one sender)
    send_concurrency: int = 8  # requests one dispatch keeps in flight to the DSP at once
    unacknowledged_grace_s: float = 300.0
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    shutdown_grace_s: float = 10.0  # on SIGTERM, how long running requests may finish
    api_max_body_bytes: int = 64 * 1024 * 1024
    receiver_max_body_bytes: int = 1024 * 1024
    # inline: the receiver stores, verifies and applies before answering (the answer carries
    # the verdict); deferred: it stores and answers 202 `received` at once, and stored
    # messages are verified and applied in batches by workers (Celery on a shared broker,
    # else a thread of the serving process)
    receiver_apply: str = "inline"
    duis_verify_at: str = ""  # fixed time DCC certificates must be valid at (expired test PKIs)
    duis_xsd: str = ""  # the DCC's DUIS schema file (DUIS_Schema_V5.4.xsd); empty: not checked
    approval_required_above: int = 1000  # four eyes: larger campaigns need another approver
    approve_role: str = "approver"  # the least role that may approve a campaign
    audit_head_interval_s: int = 3600  # log the audit chain's head this often (0: never)
    clock: str = "system"  # system: the wall clock; dsp: the simulated DSP's time (FWO_DSP_URL)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'fwo.sqlite3').resolve()}"

    @property
    def verify_at(self) -> dt.datetime | None:
        """`FWO_DUIS_VERIFY_AT` as an aware time; None checks certificates at receipt."""
        if not self.duis_verify_at:
            return None
        try:
            moment = dt.datetime.fromisoformat(self.duis_verify_at)
        except ValueError as err:
            raise ConfigurationError(f"FWO_DUIS_VERIFY_AT={self.duis_verify_at!r} is not an "
                                     "ISO 8601 time like 2024-01-01T00:00:00Z") from err
        if moment.tzinfo is None:
            raise ConfigurationError("FWO_DUIS_VERIFY_AT needs a time zone (end it with Z)")
        return moment

    @property
    def deferred_receiver(self) -> bool:
        """`FWO_RECEIVER_APPLY` is `deferred` (refused by name when it is neither mode)."""
        if self.receiver_apply not in ("inline", "deferred"):
            raise ConfigurationError(f"FWO_RECEIVER_APPLY={self.receiver_apply!r} is neither "
                                     "inline nor deferred")
        return self.receiver_apply == "deferred"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `FWO_<FIELD>` variables; unknown types are refused by name."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = env.get(ENV_PREFIX + field.name.upper())
            if raw is None or raw == "":
                continue
            values[field.name] = _convert(field.name, field.type, raw)
        # each value has its field's type (_convert is chosen by field.type); mypy cannot see it
        return cls(**values)  # type: ignore[arg-type]


def _convert(name: str, type_name: object, raw: str) -> object:
    converters = {"int": int, "float": float, "Path": Path, "str": str}
    convert = converters.get(str(type_name), str)
    try:
        return convert(raw)
    except ValueError as err:
        raise ConfigurationError(
            f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {type_name}"
        ) from err
