"""Shared fixtures: real SQLite and PostgreSQL databases, and the CI rule for services.

Under CI=true a missing PostgreSQL or Redis is a failure, not a skip.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

IN_CI = os.environ.get("CI", "").lower() == "true"
# The DCC reference material (official DUIS XSD, DCC Boxed samples, RTDS vectors) is not
# shipped with the project: tests that need it read it from beside the project when present.
REFERENCE = (Path(__file__).resolve().parents[1].parent / "shared" / "reference").resolve()
OFFICIAL_XSD = REFERENCE / "duis" / "DUIS_Schema_V5.4.xsd"
POSTGRES_URL = os.environ.get("FWO_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FWO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def service_missing(what: str, err: Exception) -> None:
    """Fail under CI, skip elsewhere, saying which service and why."""
    message = f"{what} not reachable ({type(err).__name__}: {err})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it")
    pytest.skip(message)


def reference_missing(what: str) -> None:
    """Fail under CI, skip elsewhere, naming the missing reference material."""
    message = f"{what} is absent on this machine (it is not shipped with the project)"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it")
    pytest.skip(message)


@pytest.fixture(scope="session")
def reference() -> Path:
    """The DCC reference folder (`../shared/reference` beside the project root)."""
    if not (REFERENCE / "duis").is_dir() or not (REFERENCE / "dcc").is_dir():
        reference_missing(f"DCC reference folder {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def xsd() -> Path:
    """The official DUIS 5.4 schema."""
    if not OFFICIAL_XSD.is_file():
        reference_missing(f"official DUIS schema {OFFICIAL_XSD}")
    return OFFICIAL_XSD


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL URL, after checking the server answers."""
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
    except sa.exc.OperationalError as err:
        service_missing("PostgreSQL", err)
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    schema = f"fwo_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server)
    with admin.begin() as connection:
        connection.execute(sa.text(f'create schema "{schema}"'))
    try:
        yield f"{postgres_server}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'drop schema "{schema}" cascade'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    """A fresh SQLite file database."""
    return f"sqlite:///{tmp_path}/fwo.sqlite3"  # type: ignore[str-bytes-safe]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each repository test runs once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The Redis URL, after checking the server answers."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as err:
        service_missing("Redis", err)
    finally:
        client.close()
    return REDIS_URL
