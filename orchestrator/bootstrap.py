"""Wire adapters from a `Settings` object: the one place that builds engines and gateways."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from sqlalchemy import Engine

from fir_sync.fetch import Credentials, Policy
from fir_sync.parse import Limits
from orchestrator.adapters.db import create_db_engine, current_revision, head_revision, migrate
from orchestrator.adapters.http_gateway import HttpDspGateway, UnconfiguredGateway
from orchestrator.adapters.images import UpgradeImageStore
from orchestrator.adapters.keystore import KeyStore, LazyKeyStore
from orchestrator.adapters.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.config import Settings
from orchestrator.domain.catalogue import Catalogue
from orchestrator.domain.pacing import Pacer
from orchestrator.domain.ports import Clock, DspGateway, SystemClock
from orchestrator.errors import ConfigurationError, NoCatalogueError
from orchestrator.service.access import Approvals
from orchestrator.service.catalogue import FetchOptions
from orchestrator.service.unit_of_work import UnitOfWork
from orchestrator.service.wiring import Execution, sending_problems


@dataclass
class App:
    """The wired application: settings, the engine, and factories for units of work."""

    settings: Settings
    engine: Engine
    _catalogues: dict[int, Catalogue] = field(default_factory=dict)
    _clock: Clock | None = None

    def uow(self) -> SqlAlchemyUnitOfWork:
        """A new unit of work on the application's database."""
        return SqlAlchemyUnitOfWork(self.engine)

    def fetch_options(self) -> FetchOptions:
        """How catalogue sources are fetched, from settings."""
        s = self.settings
        return FetchOptions(
            work_dir=s.data_dir / "downloads",
            credentials=Credentials(s.fetch_token, s.fetch_username, s.fetch_password),
            timeout_s=s.fetch_timeout_s, retries=s.fetch_retries,
            policy=Policy(credential_hosts=Policy.hosts(s.fetch_credential_hosts),
                          allow_http=Policy.hosts(s.fetch_allow_http_hosts),
                          allow_private=Policy.hosts(s.fetch_allow_private_hosts),
                          max_bytes=s.fetch_max_bytes, max_seconds=s.fetch_max_seconds),
            limits=Limits(max_file_bytes=s.catalogue_max_file_bytes,
                          max_uncompressed_bytes=s.catalogue_max_uncompressed_bytes,
                          max_zip_entries=s.catalogue_max_zip_entries,
                          max_compression_ratio=s.catalogue_max_compression_ratio,
                          max_rows=s.catalogue_max_rows, max_columns=s.catalogue_max_columns,
                          max_parse_seconds=s.catalogue_max_parse_seconds))

    def execution(self, *, gateway: DspGateway | None = None, clock: Clock | None = None,
                  keystore: KeyStore | LazyKeyStore | None = None, image_dir: Path | None = None,
                  pacer: Pacer | None = None, send_concurrency: int | None = None
                  ) -> Execution:
        """Campaign execution wired from settings (or the given stand-ins, for dry runs: a
        given gateway is sent one request at a time unless `send_concurrency` says more, so
        a seeded dry run draws its faults in one order)."""
        s = self.settings
        if send_concurrency is None:
            send_concurrency = 1 if gateway is not None else s.send_concurrency
        problems = sending_problems(s.send_order, send_concurrency)
        if problems:
            raise ConfigurationError("; ".join(problems))
        keys = keystore or LazyKeyStore(s.keys_dir, s.import_supplier_eui, s.gas_supplier_eui)
        gateway = gateway or (HttpDspGateway(s.dsp_url) if s.dsp_url else UnconfiguredGateway())
        if s.duis_xsd and isinstance(gateway, HttpDspGateway):  # the DCC's XSD, when held
            from orchestrator.adapters.schema_gateway import SchemaCheckedGateway

            gateway = SchemaCheckedGateway(gateway, Path(s.duis_xsd))
        images = UpgradeImageStore(image_dir or s.image_dir, lambda: keys.digital_signing_key,
                                   s.data_dir / "upgrade-images")
        return Execution(uow=self.uow, gateway=gateway, keys=keys, verify_at=s.verify_at,
                         upgrade_image=images, catalogue=self.catalogue,
                         clock=clock or self.clock(), pacer=self.pacing(pacer),
                         send_lock=self.send_lock(), dcc_eui=s.dcc_eui,
                         unacknowledged_grace_s=s.unacknowledged_grace_s,
                         batch_limit=s.dispatch_batch, send_order=s.send_order,
                         send_concurrency=send_concurrency,
                         approvals=self.approvals())

    def approvals(self) -> Approvals:
        """The deployment's four-eyes rule: the size and the least role that may approve."""
        return Approvals(self.settings.approval_required_above, self.settings.approve_role)

    def pacing(self, given: Pacer | None = None) -> Callable[[UnitOfWork], Pacer]:
        """The pacer each claim takes its budget from: `given` (a dry run's), Redis when
        configured (shared by every worker), else the database's own, in the claim's unit
        of work (so a claim rolled back gives its budget back)."""
        pacer = given
        if pacer is None and self.settings.redis_url:
            from orchestrator.adapters.redis_pacer import RedisPacer

            pacer = RedisPacer.from_url(self.settings.redis_url)
        if pacer is None:
            return _database_pacer
        shared = pacer
        return lambda uow: shared

    def send_lock(self) -> Callable[..., AbstractContextManager[None]]:
        """Redis across workers when configured, PostgreSQL advisory lock, else in-process."""
        if self.settings.redis_url:
            import redis

            from orchestrator.adapters.locks import RedisSendLock

            return RedisSendLock(redis.Redis.from_url(self.settings.redis_url))
        if self.engine.dialect.name == "postgresql":
            from orchestrator.adapters.locks import PostgresSendLock

            return PostgresSendLock(self.engine)
        from orchestrator.adapters.locks import ProcessSendLock

        return ProcessSendLock()

    def clock(self) -> Clock:
        """The wall clock, or with `FWO_CLOCK=dsp` the simulated DSP's time (one per app)."""
        if self._clock is None:
            choice = self.settings.clock
            if choice == "system":
                self._clock = SystemClock()
            elif choice == "dsp":
                from orchestrator.adapters.dsp_clock import DspClock

                self._clock = DspClock(self.settings.dsp_url)
            else:
                raise ConfigurationError(f"FWO_CLOCK={choice!r}: use system (the wall clock) "
                                         "or dsp (the simulated DSP's time)")
        return self._clock

    def catalogue(self, snapshot_id: int | None, uow: UnitOfWork | None = None) -> Catalogue:
        """A catalogue snapshot (the current one for None), cached: snapshots never change.

        Inside an open unit of work pass it as `uow`, so no second transaction is opened.
        """
        if snapshot_id is not None and snapshot_id in self._catalogues:
            return self._catalogues[snapshot_id]
        if uow is None:
            with self.uow() as own:
                return self.catalogue(snapshot_id, own)
        wanted = snapshot_id if snapshot_id is not None else uow.catalogue.current_id()
        if wanted is None:
            raise NoCatalogueError("no catalogue yet: run `fwo catalogue sync`")
        if wanted not in self._catalogues:
            self._catalogues[wanted] = uow.catalogue.load(wanted)
        return self._catalogues[wanted]

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def bootstrap(settings: Settings, *, ensure_schema: bool = True) -> App:
    """Build the application; apply pending migrations on first use unless told not to.

    A bad four-eyes setting is refused here, before anything runs (ConfigurationError).
    """
    Approvals(settings.approval_required_above, settings.approve_role)
    if settings.verify_at is not None:
        structlog.get_logger("fwo").warning(
            "duis_verify_at_fixed", verify_at=settings.verify_at.isoformat(),
            detail="DCC certificates are checked at this fixed time, not at receipt: "
                   "for test PKIs only (FWO_DUIS_VERIFY_AT)")
    engine = create_db_engine(settings.resolved_database_url)
    if ensure_schema and not schema_is_current(engine):
        migrate(engine)
    return App(settings, engine)


def schema_is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    from sqlalchemy.exc import SQLAlchemyError

    from orchestrator.errors import DatabaseError

    try:
        with engine.connect() as connection:
            return current_revision(connection) == head_revision()
    except SQLAlchemyError as err:
        raise DatabaseError(f"cannot open the database {engine.url.render_as_string()}: "
                            f"{err.args[0] if err.args else err}") from err


def _database_pacer(uow: UnitOfWork) -> Pacer:
    """Pacing kept in the database, inside the claim's own transaction."""
    return uow.requests
