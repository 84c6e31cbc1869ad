"""Wire adapters from a `Settings` object: the one place that builds engines and gateways."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from fir_sync.fetch import Credentials
from orchestrator.adapters.db import create_db_engine, current_revision, head_revision, migrate
from orchestrator.adapters.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.config import Settings
from orchestrator.service.catalogue import FetchOptions


@dataclass
class App:
    """The wired application: settings, the engine, and factories for units of work."""

    settings: Settings
    engine: Engine

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
