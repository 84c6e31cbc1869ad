"""The errors `fir_sync` raises, in one place; every one derives from `FirSyncError`."""
from __future__ import annotations


class FirSyncError(Exception):
    """Base of every error raised by fir_sync."""


class WorkbookFormatError(FirSyncError):
    """A file cannot be read as a CPL or FIR table (unreadable, wrong type, no header row)."""


class IntegrityError(FirSyncError):
    """A file does not match its pinned SHA-256 or its detached signature."""


class FetchError(FirSyncError):
    """A source could not be fetched (missing file, empty directory, HTTP failure)."""
