"""`fwo run` holds its database alone: a second copy is refused while the first one lives."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.adapters.db import create_db_engine
from orchestrator.entrypoints.runtime import AlreadyRunningError, exclusive


def test_a_second_run_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    """The lock file beside the SQLite file names the holder; it is free again afterwards."""
    url = f"sqlite:///{tmp_path / 'fwo.sqlite3'}"
    first, second = create_db_engine(url), create_db_engine(url)
    try:
        with exclusive(first):
            with pytest.raises(AlreadyRunningError, match=f"pid {os.getpid()}"), \
                    exclusive(second):
                pass
            assert (tmp_path / "fwo.sqlite3.lock").read_text().strip() == str(os.getpid())
        with exclusive(second):
            pass
    finally:
        first.dispose()
        second.dispose()


def test_runs_on_different_sqlite_files_do_not_block_each_other(tmp_path: Path) -> None:
    """Each database has its own lock."""
    one = create_db_engine(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    two = create_db_engine(f"sqlite:///{tmp_path / 'two.sqlite3'}")
    try:
        with exclusive(one), exclusive(two):
            assert (tmp_path / "one.sqlite3.lock").exists()
            assert (tmp_path / "two.sqlite3.lock").exists()
    finally:
        one.dispose()
        two.dispose()


@pytest.mark.postgres
def test_a_second_run_on_the_same_postgres_database_is_refused(postgres_url: str) -> None:
    """On PostgreSQL a session advisory lock plays the lock file's part."""
    first, second = create_db_engine(postgres_url), create_db_engine(postgres_url)
    try:
        with exclusive(first), pytest.raises(AlreadyRunningError, match="already running"), \
                exclusive(second):
            pass
        with exclusive(second):
            pass
    finally:
        first.dispose()
        second.dispose()
