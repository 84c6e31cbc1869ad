"""Fixtures for the DSP and fleet simulator tests: a small generated world and helpers."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest

from duis.models import Response
from duis.testing.pki import Pki
from orchestrator.domain.catalogue import CatalogueEntry
from simulators import GeneratedData, SimulatedSupplier, Simulation, build_simulation
from simulators.dsp.users import UserIdentity

_EUIS = itertools.count(1)
GAS_ONLY_EUI = "90-B3-D5-1F-30-01-00-01"
OFFICIAL_XSD = (Path(__file__).resolve().parents[3].parent
                / "shared" / "reference" / "duis" / "DUIS_Schema_V5.4.xsd")


@pytest.fixture(scope="session")
def data() -> GeneratedData:
    """60 CPL entries (ESME, GSME, PPMID, CHF, GPF) and 300 devices, seed 1."""
    return GeneratedData.generate(entries=60, devices=300, seed=1)


@dataclass
class World:
    """A simulation with both suppliers and helpers to set up devices and read messages."""

    sim: Simulation
    electricity: SimulatedSupplier
    gas: SimulatedSupplier

    def supplier(self, device_type: str) -> SimulatedSupplier:
        """The supplier (User) responsible for a device type."""
        return self.gas if device_type in ("GSME", "GPF") else self.electricity

    def edge(self, device_type: str = "GSME", skip: int = 0) -> tuple[CatalogueEntry,
                                                                      CatalogueEntry]:
        """A permitted (from, to) upgrade of a device type (the `skip`-th one)."""
        edges = [(a, b) for a, b in self.sim.catalogue.permitted_upgrades()
                 if b.device_type == device_type]
        return edges[skip]

    def add_devices(self, entry: CatalogueEntry, n: int = 1, *, status: str = "Commissioned",
                    hub_gbcs: str = "4.2") -> list[str]:
        """Add `n` fresh devices running `entry`, each on its own comms hub."""
        ids = []
        for _ in range(n):
            k = next(_EUIS)
            device_id = f"AA-BB-CC-00-00-{k >> 16 & 255:02X}-{k >> 8 & 255:02X}-{k & 255:02X}"
            hub_id = f"AA-BB-CD-00-00-{k >> 16 & 255:02X}-{k >> 8 & 255:02X}-{k & 255:02X}"
            self.sim.fleet.add(device_id, entry.device_type, entry.manufacturer, entry.model,
                               entry.hardware_version, entry.image_hash,
                               entry.firmware_version, status, hub_id, hub_gbcs)
            ids.append(device_id)
        return ids

    def messages(self) -> list[Response]:
        """Everything delivered until the DSP is idle, verified against the DCC certificate."""
        return self.sim.deliver_all()


@pytest.fixture(scope="session")
def gas_only() -> UserIdentity:
    """A Gas Supplier User of its own (own EUI, own certificates), to test role checks."""
    pki = Pki.generate()
    return UserIdentity(GAS_ONLY_EUI, "GS", pki.supplier_xml.identity, pki.supplier_ds.key,
                        pki.supplier_ds.certificate)


@pytest.fixture
def world(data: GeneratedData, gas_only: UserIdentity) -> World:
    """A fresh simulation (no faults; the official DUIS schema checked when present) with
    an Import Supplier User and a separate Gas Supplier User."""
    schema = OFFICIAL_XSD if OFFICIAL_XSD.is_file() else None
    electricity = build_simulation(data).users["IS"]
    sim = build_simulation(data, schema_path=schema, users=[electricity, gas_only])
    return World(sim, SimulatedSupplier(sim, "IS"), SimulatedSupplier(sim, "GS"))
