"""What the execution handlers need, bundled once by bootstrap (or by a dry run)."""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec

from duis.keys import TrustStore
from duis.sign import SigningIdentity
from orchestrator.domain.campaign import Campaign
from orchestrator.domain.catalogue import Catalogue, CatalogueEntry
from orchestrator.domain.pacing import Pacer
from orchestrator.domain.ports import Clock, DspGateway
from orchestrator.service.access import Approvals
from orchestrator.service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class SupplierIdentity:
    """One DCC User identity: its EUI, XML-signing identity and digital-signing key."""

    originator: str
    xml: SigningIdentity
    digital_signing_key: ec.EllipticCurvePrivateKey


class KeyProvider(Protocol):
    """Supplier identities and DCC trust (loaded lazily by the adapter)."""

    @property
    def trust(self) -> TrustStore: ...

    def identity_for(self, device_type: str) -> SupplierIdentity: ...


SEND_ORDERS = ("target", "originator")  # what FWO_SEND_ORDER may say


def sending_problems(send_order: str, send_concurrency: int) -> list[str]:
    """What is wrong with how requests are to be ordered and kept in flight, one line each."""
    problems = []
    if send_order not in SEND_ORDERS:
        problems.append(f"FWO_SEND_ORDER={send_order!r}: use target (each target sees its "
                        "counters increase) or originator (one sender at a time)")
    if send_concurrency < 1:
        problems.append(f"FWO_SEND_CONCURRENCY={send_concurrency}: at least 1 request must "
                        "be allowed in flight")
    return problems


@dataclass
class Execution:
    """The wiring of campaign execution: storage, the DSP, keys, images, pacing, time."""

    uow: Callable[[], UnitOfWork]
    gateway: DspGateway
    keys: KeyProvider
    upgrade_image: Callable[[CatalogueEntry], bytes]
    catalogue: Callable[..., Catalogue]
    clock: Clock
    # the budget a claim takes from: one shared by every worker (Redis), or the database's
    # own, inside the claim's transaction (given that unit of work)
    pacer: Callable[[UnitOfWork], Pacer]
    # one sender per lane at a time (Redis, PostgreSQL, process): the requests to the DCC
    # itself take its lane, so its counters reach it in order (docs/request-ordering.md)
    send_lock: Callable[..., AbstractContextManager[None]]
    dcc_eui: str = "90-B3-D5-1F-30-00-00-02"
    batch_limit: int = 2000
    send_order: str = "target"  # "originator": one sender at a time, across all targets
    send_concurrency: int = 1  # requests to devices one dispatch keeps in flight
    rng: random.Random = field(default_factory=random.Random)
    campaign_cache: dict[int, tuple[Campaign, Catalogue]] = field(default_factory=dict)
    unacknowledged_grace_s: float = 300.0
    verify_at: dt.datetime | None = None  # DCC signatures' certificates valid then (None: now)
    approvals: Approvals = field(default_factory=Approvals)  # the deployment's four eyes

    def identity_for(self, device_type: str) -> SupplierIdentity:
        """The DCC User identity that sends requests for this device type."""
        return self.keys.identity_for(device_type)

    @property
    def trust(self) -> TrustStore:
        """The DCC certificates answers must be signed with."""
        return self.keys.trust
