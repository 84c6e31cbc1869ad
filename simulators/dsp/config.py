"""Frozen configuration of the simulated DSP."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from lxml import etree

from duis import schema as duis_schema
from duis.codes import DCC_EUI
from duis.errors import SchemaLoadError
from duis.xmlsafe import MAX_DOCUMENT_BYTES
from simulators import ConfigurationError

PERIOD_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday, so weekly periods start on Mondays
# whose RequestID counters must strictly increase (docs/request-ordering.md): per originator
# and target, as GBCS devices keep them, or per originator alone (the stricter reading)
REPLAY_SCOPES = ("target", "originator")


@dataclass(frozen=True)
class AnomalyThresholds:
    """Per-User limits on SRs of each type per period (by service reference: "11.1", ...).

    A type without a limit is counted but never quarantined. Periods are fixed windows of
    `period` simulated time starting at PERIOD_EPOCH (midnight UTC for daily periods).
    """

    limits: Mapping[str, int] = field(default_factory=dict)
    period: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        if self.period <= timedelta(0):
            raise ConfigurationError(f"anomaly detection period must be positive: {self.period}")
        bad = {k: v for k, v in self.limits.items() if v < 0}
        if bad:
            raise ConfigurationError(f"anomaly detection limits must be >= 0: {bad}")
        object.__setattr__(self, "limits", MappingProxyType(dict(self.limits)))


@dataclass(frozen=True)
class DspConfig:
    """What the DSP checks and how: schema, DCC identity, thresholds, size limits.

    `schema_path` is the DCC's DUIS XSD (a DCC User has it; it is not shipped here). Without
    it the DSP still parses every request strictly (structure, types, signature). The path is
    resolved and the XSD compiled once, here, not on every request the DSP admits.
    """

    schema_path: Path | None = None
    dcc_eui: str = DCC_EUI
    thresholds: AnomalyThresholds = field(default_factory=AnomalyThresholds)
    max_request_bytes: int = MAX_DOCUMENT_BYTES
    replay_scope: str = "target"
    schema: etree.XMLSchema | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.replay_scope not in REPLAY_SCOPES:
            raise ConfigurationError(f"replay scope {self.replay_scope!r}: use "
                                     f"{' or '.join(REPLAY_SCOPES)}")
        if self.schema_path is None:
            return
        if not Path(self.schema_path).is_file():
            raise ConfigurationError(f"DUIS schema not found at {self.schema_path}")
        try:
            object.__setattr__(self, "schema", duis_schema.load_schema(self.schema_path))
        except SchemaLoadError as err:
            raise ConfigurationError(str(err)) from err
