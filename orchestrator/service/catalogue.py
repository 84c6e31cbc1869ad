"""Catalogue handlers: sync the CPL and FIR into a new snapshot, and answer queries."""
from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fir_sync import integrity
from fir_sync.diff import diff_entries
from fir_sync.errors import FirSyncError, IntegrityError
from fir_sync.fetch import Credentials, Policy, fetch
from fir_sync.parse import DEFAULT_LIMITS, Limits
from fir_sync.reader import read_catalogue
from fir_sync.records import ParsedCatalogue, Problem
from orchestrator.domain.catalogue import (
    Catalogue,
    Snapshot,
    carry_forward,
    entry_id_key,
    unmarked,
)
from orchestrator.domain.ports import SYSTEM_CLOCK, Clock
from orchestrator.errors import CatalogueError, NoCatalogueError, SyncRefusedError
from orchestrator.service import audit, planning
from orchestrator.service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class SyncCatalogue:
    """Command: replace the catalogue with the given CPL and FIR (or change nothing)."""

    cpl_source: str
    fir_source: str
    strict: bool = False
    expect_sha256: tuple[str, ...] = ()
    signatures: tuple[str, ...] = ()
    public_key: str | None = None
    allow_removals: bool = False
    max_removed_share: float = 0.10  # FWO_CATALOGUE_MAX_REMOVED_SHARE
    csv_encoding: str | None = None  # a CSV's declared encoding; None: UTF-8 (BOM allowed)


@dataclass(frozen=True)
class FetchOptions:
    """How sources are fetched, and the bounds they are read under (from Settings)."""

    work_dir: Path
    credentials: Credentials = field(default_factory=Credentials)
    timeout_s: float = 30.0
    retries: int = 3
    policy: Policy = field(default_factory=Policy)
    limits: Limits = DEFAULT_LIMITS


@dataclass(frozen=True)
class SyncResult:
    """What a sync did: the snapshot now current, counts, the diff and every problem."""

    snapshot_id: int
    unchanged: bool
    cpl_entries: int
    fir_entries: int
    diff: dict[str, Any]
    problems: list[dict[str, Any]] = field(default_factory=list)
    content_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape `fwo catalogue sync --json` prints."""
        return {"snapshot_id": self.snapshot_id, "unchanged": self.unchanged,
                "cpl_entries": self.cpl_entries, "fir_entries": self.fir_entries,
                "added": len(self.diff.get("added", [])),
                "removed": len(self.diff.get("removed", [])),
                "changed": len(self.diff.get("changed", [])),
                "carried": len(self.diff.get("carried", [])),
                "changed_by_kind": self.diff.get("changed_by_kind", {}),
                "content_hash": self.content_hash, "problems": self.problems}


SYNC_ATTEMPTS = 3


def sync_catalogue(cmd: SyncCatalogue, uow: UnitOfWork, options: FetchOptions,
                   clock: Clock = SYSTEM_CLOCK,
                   entry: audit.Entry | None = None) -> SyncResult:
    """Fetch, check integrity, read, validate and store as one transaction, with its audit
    `entry` when given (an unchanged catalogue writes only that row).

    Rows are validated against the current catalogue, so an entry whose new CPL row is
    rejected keeps its last good version (marked `carried_over`). Should another sync make
    a new snapshot current meanwhile, the files are validated again against that one.
    """
    files = _fetch_checked(cmd, options)
    try:
        return _sync_files(uow, cmd, files, clock, entry, options.limits)
    finally:  # downloads are never kept: the snapshot holds their hashes, not the files
        _remove_downloads(files, options.work_dir)


def _sync_files(uow: UnitOfWork, cmd: SyncCatalogue, files: dict[str, Path],
                clock: Clock, entry: audit.Entry | None,
                limits: Limits) -> SyncResult:
    same_files = _unchanged_files(uow, files, cmd.strict)
    if same_files is not None:
        return _audited_unchanged(uow, same_files, entry)
    for _ in range(SYNC_ATTEMPTS):
        previous_id, previous = _current_entries(uow)
        parsed = _read(files, previous, cmd.strict, cmd.csv_encoding, limits)
        stored = _store(uow, parsed, previous_id, previous, clock.now(), entry,
                        allow_removals=cmd.allow_removals,
                        max_removed_share=cmd.max_removed_share)
        if stored is not None:
            return _audited_unchanged(uow, stored, entry) if stored.unchanged else stored
    raise SyncRefusedError("other syncs kept replacing the catalogue while this one read its "
                           "files; run it again")


Entries = dict[str, dict[str, Any]]


def _current_entries(uow: UnitOfWork) -> tuple[int | None, Entries]:
    with uow:
        current_id = uow.catalogue.current_id()
        return current_id, (uow.catalogue.entry_fields(current_id)
                            if current_id is not None else {})


def _audited_unchanged(uow: UnitOfWork, result: SyncResult,
                       entry: audit.Entry | None) -> SyncResult:
    if entry is not None:
        entry.write_alone(uow, snapshot_id=result.snapshot_id, unchanged=True)
    return result


def source_allowed(source: str, configured: tuple[str, ...], patterns: str) -> bool:
    """True when `source` is a configured source or matches one of the comma-separated
    `patterns` (shell globs, e.g. `https://secas.example/cpl/*.xlsx`)."""
    globs = [p.strip() for p in patterns.split(",") if p.strip()]
    return source in configured or any(fnmatch.fnmatchcase(source, g) for g in globs)


def check_removals(previous: Entries, entries: Entries, max_share: float) -> None:
    """Refuse a catalogue that drops more than `max_share` of the current entries or every
    entry of a manufacturer: far more likely a truncated or wrong file than a real
    withdrawal (which the CPL publishes as a status, not a missing row)."""
    if not previous:
        return
    removed = [e for e in previous if e not in entries]
    kept = {str(f.get("manufacturer", "")) for f in entries.values()}
    lost = sorted({str(f.get("manufacturer", "")) for f in previous.values()} - kept)
    share = len(removed) / len(previous)
    if share > max_share or lost:
        why = (f"manufacturer(s) {', '.join(lost)} would vanish entirely" if lost else
               f"that is {share:.0%}, over the {max_share:.0%} allowed "
               "(FWO_CATALOGUE_MAX_REMOVED_SHARE)")
        raise SyncRefusedError(
            f"this sync would remove {len(removed)} of {len(previous)} current entries; {why}; "
            "nothing imported (check the files, or pass --allow-removals if intended)")


def _store(uow: UnitOfWork, parsed: ParsedCatalogue, previous_id: int | None,
           previous: Entries, created_at: dt.datetime,
           entry: audit.Entry | None = None, *, allow_removals: bool = True,
           max_removed_share: float = 1.0) -> SyncResult | None:
    """Store the new snapshot; None when the current one is no longer `previous_id`."""
    problems = [p.to_dict() for p in parsed.problems]
    content_hash = _content_hash(parsed)
    with uow:
        current_id = uow.catalogue.current_id()
        if current_id != previous_id:
            return None
        current = uow.catalogue.snapshot(current_id) if current_id is not None else None
        if current is not None and current.content_hash == content_hash:
            return _unchanged(current)
        entries = _new_entries(parsed, current_id)
        if not allow_removals:
            check_removals(previous, entries, max_removed_share)
        diff = diff_entries({e: unmarked(f) for e, f in previous.items()},
                            {e: unmarked(f) for e, f in entries.items()}).to_dict()
        diff["carried"] = sorted(parsed.carried, key=entry_id_key)
        record = _snapshot_record(parsed, content_hash, problems, diff, current_id, created_at)
        snapshot_id = uow.catalogue.add(record, entries.values())
        uow.catalogue.make_current(snapshot_id)
        planning.mark_stale_plans(uow, diff)
        if entry is not None:
            entry.write(uow, snapshot_id=snapshot_id, unchanged=False)
        uow.commit()
    return SyncResult(snapshot_id, False, len(entries), parsed.fir_rows_accepted, diff,
                      problems, content_hash)


def _new_entries(parsed: ParsedCatalogue, previous_id: int | None) -> Entries:
    """Accepted records (some with FIR data kept), plus whole entries kept, each marked."""
    entries = {e: r.flat() for e, r in parsed.records.items()}
    for entry, carried in parsed.carried.items():
        if previous_id is not None:
            stored = entries.get(entry, carried.fields)  # a whole entry kept is not a record
            entries[entry] = carry_forward(stored, carried.fields, previous_id,
                                           [p.to_dict() for p in carried.problems],
                                           carried.part)
    return entries


def _unchanged(current: Snapshot) -> SyncResult:
    return SyncResult(current.id, True, current.cpl_entries, current.fir_entries,
                      {"added": [], "removed": [], "changed": [], "carried": []},
                      current.problems,
                      current.content_hash)


def _unchanged_files(uow: UnitOfWork, files: dict[str, Path], strict: bool
                     ) -> SyncResult | None:
    """The current snapshot when both files are byte-identical to its sources (no re-read);
    under `strict`, refused if that snapshot has problems."""
    with uow:
        current_id = uow.catalogue.current_id()
        current = uow.catalogue.snapshot(current_id) if current_id is not None else None
    if current is None:
        return None
    same = (integrity.file_sha256(files["cpl"]) == current.cpl_file_sha256
            and integrity.file_sha256(files["fir"]) == current.fir_file_sha256)
    if same and strict and current.problems:
        raise SyncRefusedError(f"--strict: the current snapshot from these files has "
                               f"{len(current.problems)} problem(s)")
    return _unchanged(current) if same else None


def _fetch_checked(cmd: SyncCatalogue, options: FetchOptions) -> dict[str, Path]:
    files: dict[str, Path] = {}
    try:
        for kind, source in (("cpl", cmd.cpl_source), ("fir", cmd.fir_source)):
            files[kind] = fetch(source, kind, work_dir=options.work_dir,
                                credentials=options.credentials, timeout_s=options.timeout_s,
                                retries=options.retries, policy=options.policy).path
        check_integrity(cmd, files)
        return files
    except BaseException as err:
        _remove_downloads(files, options.work_dir)
        if isinstance(err, FirSyncError):
            raise SyncRefusedError(str(err)) from err
        raise


def _remove_downloads(files: dict[str, Path], work_dir: Path) -> None:
    """Delete the files fetched into `work_dir` (never a local source file)."""
    for path in files.values():
        if path.parent.resolve() == work_dir.resolve():
            path.unlink(missing_ok=True)


def _read(files: dict[str, Path], previous: Entries, strict: bool,
          csv_encoding: str | None = None, limits: Limits = DEFAULT_LIMITS) -> ParsedCatalogue:
    try:
        parsed = read_catalogue(files["cpl"], files["fir"], previous, csv_encoding=csv_encoding,
                                limits=limits)
    except FirSyncError as err:
        raise SyncRefusedError(str(err)) from err
    if strict and parsed.problems:
        raise SyncRefusedError(_refusal(parsed.problems))
    return parsed


def check_integrity(cmd: SyncCatalogue, files: dict[str, Path]) -> None:
    """Apply `--expect-sha256` pins and `--signature` checks; raise on any mismatch.

    A value may name its file (`cpl=…`, `fir=…`); a bare value must match one of the two.
    """
    for pin in cmd.expect_sha256:
        _check_either(pin, files, lambda path, value: integrity.check_sha256(path, value))
    if cmd.signatures and not cmd.public_key:
        raise SyncRefusedError("--signature needs --public-key")
    key = Path(cmd.public_key or "")
    for signature in cmd.signatures:
        _check_either(signature, files,
                      lambda path, value: integrity.check_signature(path, Path(value), key))


def _check_either(spec: str, files: dict[str, Path],
                  check: Callable[[Path, str], None]) -> None:
    kind, sep, value = spec.partition("=")
    if sep and kind.strip().lower() in files:
        check(files[kind.strip().lower()], value.strip())
        return
    errors = []
    for path in files.values():
        try:
            check(path, spec)
            return
        except (IntegrityError, OSError) as err:
            errors.append(str(err))
    raise IntegrityError("; ".join(errors))


def _refusal(problems: tuple[Problem, ...]) -> str:
    first = str(problems[0])
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"--strict: {len(problems)} problem(s), nothing imported: {first}{more}"


def _content_hash(parsed: ParsedCatalogue) -> str:
    joined = f"{parsed.cpl_source.content_sha256}:{parsed.fir_source.content_sha256}"
    return hashlib.sha256(joined.encode()).hexdigest()


def _snapshot_record(parsed: ParsedCatalogue, content_hash: str, problems: list[dict[str, Any]],
                     diff: dict[str, Any], previous: int | None,
                     created_at: dt.datetime) -> dict[str, Any]:
    cpl, fir = parsed.cpl_source, parsed.fir_source
    return {
        "created_at": created_at, "cpl_source": cpl.file, "fir_source": fir.file,
        "cpl_sheet": cpl.sheet, "fir_sheet": fir.sheet, "cpl_file_sha256": cpl.file_sha256,
        "fir_file_sha256": fir.file_sha256, "cpl_content_sha256": cpl.content_sha256,
        "fir_content_sha256": fir.content_sha256, "content_hash": content_hash,
        "cpl_rows": cpl.rows, "fir_rows": fir.rows,
        "cpl_entries": len(parsed.records.keys() | parsed.carried.keys()),
        "fir_entries": parsed.fir_rows_accepted, "problem_count": len(problems),
        "problems": problems, "diff": diff, "previous_snapshot_id": previous,
    }


def current_catalogue(uow: UnitOfWork) -> Catalogue:
    """The catalogue of the current snapshot."""
    with uow:
        snapshot_id = uow.catalogue.current_id()
        if snapshot_id is None:
            raise NoCatalogueError("no catalogue yet: run `fwo catalogue sync --cpl ... --fir ...`")
        return uow.catalogue.load(snapshot_id)


def snapshot(uow: UnitOfWork, snapshot_id: int | None = None) -> Snapshot:
    """A snapshot's record (the current one by default)."""
    with uow:
        wanted = snapshot_id if snapshot_id is not None else uow.catalogue.current_id()
        found = uow.catalogue.snapshot(wanted) if wanted is not None else None
    if found is None:
        raise (NoCatalogueError("no catalogue yet: run `fwo catalogue sync`")
               if snapshot_id is None else CatalogueError(f"no snapshot {snapshot_id}"))
    return found
