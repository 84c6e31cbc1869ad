"""Wire adapters from a `Settings` object: the one place that builds engines and gateways."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from fir_sync.fetch import Credentials
from orchestrator.adapters.db import create_db_engine, current_revision, head_revision, migrate
from orchestrator.adapters.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.adapters.http_gateway import HttpDspGateway
from orchestrator.adapters.images import UpgradeImageStore
from orchestrator.adapters.keystore import KeyStore
from orchestrator.config import Settings
from orchestrator.domain.catalogue import Catalogue
from orchestrator.domain.pacing import Pacer
from orchestrator.domain.ports import Clock, DspGateway, SystemClock
from orchestrator.errors import ConfigurationError, NoCatalogueError
from orchestrator.service.catalogue import FetchOptions
from orchestrator.service.wiring import Execution


@dataclass
class App:
    """The wired application: settings, the engine, and factories for units of work."""

    settings: Settings
    engine: Engine
    _catalogues: dict[int, Catalogue] = field(default_factory=dict)

    def uow(self) -> SqlAlchemyUnitOfWork:
        """A new unit of work on the application's database."""
        return SqlAlchemyUnitOfWork(self.engine)

    def fetch_options(self) -> FetchOptions:
        """How catalogue sources are fetched, from settings."""
        s = self.settings
        return FetchOptions(
            work_dir=s.data_dir / "downloads",
            credentials=Credentials(s.fetch_token, s.fetch_username, s.fetch_password),
            timeout_s=s.fetch_timeout_s, retries=s.fetch_retries)

    def execution(self, *, gateway: DspGateway | None = None, clock: Clock | None = None,
                  keystore: KeyStore | None = None, image_dir: Path | None = None,
                  pacer: Pacer | None = None) -> Execution:
        """Campaign execution wired from settings (or the given stand-ins, for dry runs)."""
        s = self.settings
        keys = keystore or KeyStore(s.keys_dir, s.import_supplier_eui, s.gas_supplier_eui)
        if gateway is None:
            if not s.dsp_url:
                raise ConfigurationError("FWO_DSP_URL is not set: no DSP to send requests to")
            gateway = HttpDspGateway(s.dsp_url)
        images = UpgradeImageStore(image_dir or s.image_dir, keys.digital_signing_key,
                                   s.data_dir / "upgrade-images")
        return Execution(uow=self.uow, gateway=gateway, identity_for=keys.identity_for,
                         upgrade_image=images, catalogue=self.catalogue, trust=keys.trust,
                         clock=clock or SystemClock(), pacer=pacer, dcc_eui=s.dcc_eui,
                         batch_limit=s.dispatch_batch)

    def catalogue(self, snapshot_id: int | None) -> Catalogue:
        """A catalogue snapshot (the current one for None), cached: snapshots never change."""
        if snapshot_id is None:
            with self.uow() as uow:
                snapshot_id = uow.catalogue.current_id()
            if snapshot_id is None:
                raise NoCatalogueError("no catalogue yet: run `fwo catalogue sync`")
        if snapshot_id not in self._catalogues:
            with self.uow() as uow:
                self._catalogues[snapshot_id] = uow.catalogue.load(snapshot_id)
        return self._catalogues[snapshot_id]

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def bootstrap(settings: Settings, *, ensure_schema: bool = True) -> App:
    """Build the application; apply pending migrations on first use unless told not to."""
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
