"""One call builds a whole simulation: DSP, fleet, clock and the Users' keys.

    sim = build_simulation(Path("generated"), faults="default", seed=1)
    xml = sim.users["IS"].sign(build.update_firmware(rid, sim.upgrade_image("10004"), ...))
    sim.verify(sim.dsp.submit(xml))           # the synchronous response, DCC signature checked
    sim.dsp.run_until_idle()                  # deliver everything that follows
    assert sim.fleet.bricked() == []
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

from duis.image import build_image
from duis.keys import TrustStore
from duis.models import Response
from duis.parse import verify_response
from duis.sign import SigningIdentity
from duis.testing.pki import Pki
from simulators import ConfigurationError
from simulators.clock import DEFAULT_START, SimulatedClock
from simulators.dsp.codes import DEVICE_RULES, NO_RULE
from simulators.dsp.config import AnomalyThresholds, DspConfig
from simulators.dsp.engine import Dsp
from simulators.dsp.receivers import CollectingReceiver, Receiver
from simulators.dsp.users import (
    UserConfig,
    UserIdentity,
    dcc_identity_from_keys,
    identities_from_keys,
    identities_from_pki,
)
from simulators.faults import FaultProfile
from simulators.fleet.behaviour import DEFAULT_IMAGE_TYPE, IMAGE_TYPES
from simulators.fleet.catalogue import FirmwareCatalogue
from simulators.fleet.devices import Fleet
from simulators.fleet.state import STATE_FILE, apply_state, load_state
from simulators.generate import Catalogue, generate_catalogue, iter_fleet_rows, manufacturer_image
from simulators.generate.keys import make_pki


@dataclass(frozen=True)
class GeneratedData:
    """A generated data set held in memory: catalogue, fleet rows and test PKI."""

    catalogue: Catalogue
    rows: tuple[tuple[str, ...], ...]
    pki: Pki

    @classmethod
    def generate(cls, *, entries: int = 16, devices: int = 50, seed: int = 1,
                 image_size: int = 256) -> GeneratedData:
        """What `fwo sim generate` would write, without the files."""
        catalogue = generate_catalogue(entries=entries, seed=seed, image_size=image_size)
        rows = tuple(iter_fleet_rows(catalogue, devices=devices, seed=seed))
        return cls(catalogue, rows, make_pki(seed))


@dataclass
class Simulation:
    """The DSP, its fleet and clock, and the keys to talk to it."""

    dsp: Dsp
    users: dict[str, UserIdentity]
    dcc_certificate: x509.Certificate
    images: Callable[[str], bytes]

    @property
    def fleet(self) -> Fleet:
        """The simulated devices."""
        return self.dsp.fleet

    @property
    def clock(self) -> SimulatedClock:
        """Simulated time."""
        return self.dsp.clock

    @property
    def catalogue(self) -> FirmwareCatalogue:
        """The DSP's copy of the CPL and FIR."""
        return self.dsp.fleet.catalogue

    @property
    def trust(self) -> TrustStore:
        """Trust store holding the DCC certificate, to verify what the DSP sends."""
        return TrustStore.of([self.dcc_certificate])

    @property
    def received(self) -> list[bytes]:
        """Messages kept by the default collecting receiver."""
        receiver = self.dsp.receiver
        if not isinstance(receiver, CollectingReceiver):
            raise ConfigurationError("this simulation delivers to its own receiver")
        return receiver.messages

    def user_for(self, device_type: str) -> UserIdentity:
        """The User identity responsible for a device type (Import or Gas Supplier)."""
        for role in sorted(DEVICE_RULES.get(device_type, NO_RULE).roles):
            if role in self.users:
                return self.users[role]
        raise ConfigurationError(f"no User identity serves {device_type} devices")

    def verify(self, xml: bytes) -> Response:
        """Verify the DCC signature (at simulated time) and parse a response or alert."""
        return verify_response(xml, self.trust, self.clock.now())

    def deliver_all(self, limit: datetime | None = None) -> list[Response]:
        """Run until idle (or `limit`); the collected messages, verified, then forgotten."""
        self.dsp.run_until_idle(limit)
        messages = [self.verify(m) for m in self.received]
        self.received.clear()
        return messages

    def image_hash(self, entry_id: str) -> str:
        """The CPL Manufacturer Image hash of an entry (the 11.3 FirmwareHash)."""
        return self.catalogue.entries[self.catalogue.index_of(entry_id)].image_hash

    def upgrade_image(self, entry_id: str, user: UserIdentity | None = None) -> bytes:
        """The GBCS Upgrade Image of a CPL entry as its devices accept it (see docs)."""
        entry = self.catalogue.entries[self.catalogue.index_of(entry_id)]
        signer = user or self.user_for(entry.device_type)
        hardware = int(entry.hardware_version, 16)
        return build_image(
            self.images(entry.cpl_entry_id), int(entry.manufacturer, 16),
            IMAGE_TYPES.get(entry.device_type, DEFAULT_IMAGE_TYPE),
            int(entry.firmware_version, 16), min_hw=hardware, max_hw=hardware,
            signing_key=None if entry.device_type == "PPMID" else signer.ds_key,
        )


def build_simulation(
    source: Path | str | GeneratedData, *, faults: str | FaultProfile = "none", seed: int = 0,
    receiver: Receiver | None = None, users: Sequence[UserIdentity | UserConfig] | None = None,
    thresholds: AnomalyThresholds | None = None, start: datetime = DEFAULT_START,
    speed: float = 1.0, schema_path: Path | None = None, replay_scope: str = "target",
) -> Simulation:
    """A DSP over a generated directory (cpl.xlsx, fir.xlsx, fleet.csv, keys/) or data."""
    if isinstance(source, GeneratedData):
        fleet, identities, dcc, images = _from_data(source)
    else:
        fleet, identities, dcc, images = _from_directory(Path(source))
    if users is not None:
        identities = {u.role: u for u in reversed(users) if isinstance(u, UserIdentity)}
    configs = [u.config if isinstance(u, UserIdentity) else u
               for u in (users if users is not None else identities.values())]
    config = DspConfig(schema_path=schema_path, thresholds=thresholds or AnomalyThresholds(),
                       replay_scope=replay_scope)
    dsp = Dsp(config, fleet, SimulatedClock(start, speed), configs, dcc, faults=faults,
              seed=seed, receiver=receiver)
    return Simulation(dsp, identities, dcc.certificate, images)


_Parts = tuple[Fleet, dict[str, UserIdentity], SigningIdentity, Callable[[str], bytes]]


def _from_directory(directory: Path) -> _Parts:
    if not directory.is_dir():
        raise ConfigurationError(f"catalogue directory {directory} does not exist")
    catalogue = FirmwareCatalogue.from_workbooks(directory / "cpl.xlsx", directory / "fir.xlsx")
    fleet = Fleet.load_csv(directory / "fleet.csv", catalogue)
    apply_state(fleet, load_state(directory / STATE_FILE))
    keys = directory / "keys"

    def images(entry_id: str) -> bytes:
        try:
            return (directory / "images" / f"{entry_id}.bin").read_bytes()
        except OSError as err:
            raise ConfigurationError(f"no image for CPL entry {entry_id}: {err}") from err

    return fleet, identities_from_keys(keys), dcc_identity_from_keys(keys), images


def _from_data(data: GeneratedData) -> _Parts:
    fleet = Fleet.from_rows(data.rows, FirmwareCatalogue.from_generated(data.catalogue))
    by_id = {str(e.entry_id): e for e in data.catalogue.entries}
    return (fleet, identities_from_pki(data.pki), data.pki.dcc_xml.identity,
            lambda entry_id: manufacturer_image(by_id[entry_id]))
