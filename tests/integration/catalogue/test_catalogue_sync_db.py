"""Catalogue sync against real SQLite and PostgreSQL databases."""
from __future__ import annotations

from pathlib import Path
from typing import Self

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fir_sync.testing import cpl_row, fir_row, write_pair
from orchestrator.adapters.db import create_db_engine, head_revision, migrate
from orchestrator.adapters.schema import metadata
from orchestrator.adapters.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import Settings
from orchestrator.errors import SyncRefusedError
from orchestrator.service import catalogue as service


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> App:
    application = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url))
    yield application
    application.close()


def sync(app: App, cpl: Path, fir: Path, **kwargs: object) -> service.SyncResult:
    command = service.SyncCatalogue(str(cpl), str(fir), **kwargs)  # type: ignore[arg-type]
    return service.sync_catalogue(command, app.uow(), app.fetch_options())


def base_rows() -> tuple[list[list[object]], list[list[object]]]:
    return ([cpl_row(1), cpl_row(2, "00000002"), cpl_row(3, "00000003")],
            [fir_row(1), fir_row(2, "1"), fir_row(3, "1;2", notes="Security fix.")])


def test_migrations_are_idempotent_and_match_the_tables(database_url: str) -> None:
    """Migrating twice is harmless and leaves exactly the schema the code declares."""
    engine = create_db_engine(database_url)
    assert migrate(engine) == migrate(engine) == head_revision()
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []


def test_sync_stores_a_snapshot_and_queries_answer(app: App, tmp_path: Path) -> None:
    """A sync makes a current snapshot whose entries, graph and contacts can be queried."""
    result = sync(app, *write_pair(tmp_path, *base_rows()))
    assert (result.cpl_entries, result.fir_entries, result.unchanged) == (3, 3, False)
    catalogue = service.current_catalogue(app.uow())
    assert catalogue.snapshot_id == result.snapshot_id
    assert catalogue.predecessors("3") == ("1", "2")
    assert catalogue.successors("1") == ("2", "3")
    assert catalogue.by_hash(catalogue.get("2").image_hash)[0].cpl_entry_id == "2"
    assert [e.cpl_entry_id for e in catalogue.lineage("106C", "433100AC")] == ["1", "2", "3"]
    assert catalogue.get("3").contact.email == "fw@maker.example"
    assert len(catalogue.exposure("silicon labs", "EmberZNet 6.7")) == 3


def test_resync_of_identical_content_changes_nothing(app: App, tmp_path: Path) -> None:
    """Syncing the same cells again, even from a re-saved file, keeps the same snapshot."""
    first = sync(app, *write_pair(tmp_path, *base_rows()))
    (tmp_path / "csv").mkdir()
    again = sync(app, *write_pair(tmp_path / "csv", *base_rows(), suffix=".csv"))
    assert again.unchanged and again.snapshot_id == first.snapshot_id
    with app.uow() as uow:
        assert len(uow.catalogue.snapshots()) == 1


def test_a_changed_catalogue_records_its_diff(app: App, tmp_path: Path) -> None:
    """Withdrawn status, new predecessors, new notes and a new entry appear in the diff."""
    sync(app, *write_pair(tmp_path, *base_rows()))
    (tmp_path / "v2").mkdir()
    cpl, fir = base_rows()
    cpl[1] = cpl_row(2, "00000002", status="Withdrawn")
    cpl.append(cpl_row(4, "00000004"))
    fir[2] = fir_row(3, "2", notes="Security fix. Reissued.")
    fir.append(fir_row(4, "3"))
    result = sync(app, *write_pair(tmp_path / "v2", cpl, fir))
    data = result.to_dict()
    assert (data["added"], data["removed"], data["changed"]) == (1, 0, 2)
    diff = service.snapshot(app.uow()).diff
    kinds = {c["cpl_entry_id"]: c["kinds"] for c in diff["changed"]}
    assert kinds == {"2": ["status"], "3": ["predecessors", "release_notes"]}


def test_strict_refuses_on_any_problem_and_keeps_the_previous(app: App, tmp_path: Path) -> None:
    """Under --strict one bad row refuses the whole sync; the catalogue is unchanged."""
    first = sync(app, *write_pair(tmp_path, *base_rows()))
    (tmp_path / "bad").mkdir()
    cpl, fir = base_rows()
    cpl.append(cpl_row(9, image_hash="not-a-hash"))
    with pytest.raises(SyncRefusedError, match="malformed_hash"):
        sync(app, *write_pair(tmp_path / "bad", cpl, fir), strict=True)
    assert service.snapshot(app.uow()).id == first.snapshot_id
    lenient = sync(app, *write_pair(tmp_path / "bad", cpl, fir))
    assert lenient.to_dict()["problems"][0]["row"] == 5


def test_a_sha256_mismatch_refuses_the_sync(app: App, tmp_path: Path) -> None:
    """A wrong pin refuses; a right pin (named or bare) passes."""
    cpl, fir = write_pair(tmp_path, *base_rows())
    with pytest.raises(SyncRefusedError, match="expected"):
        sync(app, cpl, fir, expect_sha256=("fir=" + "0" * 64,))
    from fir_sync.integrity import file_sha256
    assert sync(app, cpl, fir, expect_sha256=(file_sha256(cpl),
                                              f"fir={file_sha256(fir)}")).snapshot_id


def test_a_failure_inside_the_transaction_leaves_the_previous_catalogue(
        app: App, tmp_path: Path) -> None:
    """If storing fails midway, neither the snapshot nor its entries remain."""
    first = sync(app, *write_pair(tmp_path, *base_rows()))

    class FailingUnitOfWork(SqlAlchemyUnitOfWork):
        def __enter__(self) -> Self:
            super().__enter__()

            def explode(snapshot_id: int) -> None:
                raise RuntimeError("disk full")
            self.catalogue.make_current = explode  # type: ignore[method-assign]
            return self

    (tmp_path / "v2").mkdir()
    cpl, fir = base_rows()
    cpl.append(cpl_row(4))
    with pytest.raises(RuntimeError):
        service.sync_catalogue(service.SyncCatalogue(*map(str, write_pair(tmp_path / "v2", cpl,
                                                                           fir))),
                               FailingUnitOfWork(app.engine), app.fetch_options())
    with app.uow() as uow:
        assert [s.id for s in uow.catalogue.snapshots()] == [first.snapshot_id]
        assert uow.catalogue.current_id() == first.snapshot_id
        assert uow.catalogue.entry_count(first.snapshot_id) == 3


def test_concurrent_first_use_migrates_once(database_url: str) -> None:
    """Several processes bootstrapping an empty database at once all end at the head."""
    from concurrent.futures import ThreadPoolExecutor

    engines = [create_db_engine(database_url) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        revisions = list(pool.map(migrate, engines))
    for engine in engines:
        engine.dispose()
    assert revisions == [head_revision()] * 4


def test_downloads_are_removed_after_each_sync(database_url: str, tmp_path: Path) -> None:
    """Files fetched over HTTP land in FWO_DATA_DIR/downloads only while the sync reads them,
    whether the sync succeeds or is refused; settings carry the fetch policy."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    (tmp_path / "published").mkdir()
    cpl, fir = write_pair(tmp_path / "published", *base_rows())
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(cpl.parent))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    application = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url,
                                     fetch_allow_http_hosts="127.0.0.1",
                                     fetch_allow_private_hosts="127.0.0.1"))
    try:
        downloads = tmp_path / "data" / "downloads"
        result = sync(application, f"{base}/{cpl.name}", f"{base}/{fir.name}")  # type: ignore[arg-type]
        assert result.cpl_entries == 3
        assert list(downloads.iterdir()) == []
        with pytest.raises(SyncRefusedError, match="SHA-256 is"):
            sync(application, f"{base}/{cpl.name}", f"{base}/{fir.name}",  # type: ignore[arg-type]
                 expect_sha256=("cpl=" + "0" * 64,))
        assert list(downloads.iterdir()) == []
        assert cpl.exists() and fir.exists()
        local = sync(application, cpl, fir)
        assert local.unchanged and cpl.exists()
    finally:
        application.close()
        server.shutdown()
        server.server_close()


def test_a_sync_removing_too_much_is_refused_unless_allowed(app: App, tmp_path: Path) -> None:
    """Dropping over the configured share, or a whole manufacturer, is refused with counts;
    the previous catalogue stays; --allow-removals accepts it."""
    cpl_rows = [cpl_row(i, f"{i:08X}") for i in range(1, 21)] + [cpl_row(99, manufacturer="1234")]
    fir_rows = [fir_row(i) for i in range(1, 21)] + [fir_row(99)]
    (tmp_path / "a").mkdir()
    first = sync(app, *write_pair(tmp_path / "a", cpl_rows, fir_rows))
    assert first.cpl_entries == 21
    (tmp_path / "b").mkdir()
    truncated = write_pair(tmp_path / "b", cpl_rows[:15] + cpl_rows[20:],
                           fir_rows[:15] + fir_rows[20:])
    with pytest.raises(SyncRefusedError, match=r"would remove 5 of 21 current entries; that is "
                                               r"24%, over the 10% allowed"):
        sync(app, *truncated)
    (tmp_path / "c").mkdir()
    no_1234 = write_pair(tmp_path / "c", cpl_rows[:20], fir_rows[:20])
    with pytest.raises(SyncRefusedError, match=r"remove 1 of 21 .*manufacturer\(s\) 1234 "
                                               r"would vanish"):
        sync(app, *no_1234)
    assert service.current_catalogue(app.uow()).snapshot_id == first.snapshot_id
    (tmp_path / "d").mkdir()
    one_less = write_pair(tmp_path / "d", cpl_rows[1:], fir_rows[1:])
    assert sync(app, *one_less).cpl_entries == 20  # 1 of 21 (5%) is within the share
    assert sync(app, *truncated, allow_removals=True).cpl_entries == 16


def test_api_sources_must_be_configured_or_match_a_pattern() -> None:
    """Only the configured sources and FWO_CATALOGUE_SOURCE_PATTERNS globs are free to use;
    anything else (another host, a local path) needs an admin."""
    configured = ("https://secas.example/cpl.xlsx", "https://secas.example/fir.xlsx")
    patterns = "https://secas.example/archive/*.xlsx, https://secas.example/archive/*.csv"
    assert service.source_allowed(configured[0], configured, "")
    assert service.source_allowed("https://secas.example/archive/cpl-2026-11.xlsx",
                                  configured, patterns)
    for source in ("https://evil.example/cpl.xlsx", "/etc/passwd",
                   "http://169.254.169.254/latest", "https://secas.example/cpl.xlsx.evil"):
        assert not service.source_allowed(source, configured, patterns)
