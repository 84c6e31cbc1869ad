"""Fetch a published CPL or FIR from a file, a directory or an HTTPS URL: the only I/O edge."""
from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx

from fir_sync.errors import FetchError

SUFFIXES = (".xlsx", ".xlsm", ".csv")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Credentials:
    """Bearer token or basic credentials for an HTTPS source."""

    token: str = ""
    username: str = ""
    password: str = ""

    def auth(self) -> tuple[dict[str, str], httpx.BasicAuth | None]:
        """Headers and auth object for httpx."""
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}, None
        if self.username:
            return {}, httpx.BasicAuth(self.username, self.password)
        return {}, None


@dataclass(frozen=True)
class Fetched:
    """A local file ready to read, and the source it came from."""

    path: Path
    source: str


def fetch(source: str, kind: str, *, work_dir: Path, credentials: Credentials = Credentials(),
          timeout_s: float = 30.0, retries: int = 3,
          transport: httpx.BaseTransport | None = None) -> Fetched:
    """Resolve `source` (file, directory or URL) to a local file for a `kind` (cpl or fir)."""
    scheme = urlparse(source).scheme.lower()
    if scheme in ("http", "https"):
        return _download(source, kind, work_dir, credentials, timeout_s, retries, transport)
    path = Path(source[7:] if scheme == "file" else source).expanduser()
    if path.is_dir():
        return Fetched(newest_matching(path, kind), source)
    if not path.is_file():
        raise FetchError(f"{kind.upper()} source {source!r} does not exist")
    return Fetched(path, source)


def newest_matching(directory: Path, kind: str) -> Path:
    """The most recently modified .xlsx/.csv file in `directory` whose name contains `kind`."""
    candidates = [p for p in directory.iterdir()
                  if p.is_file() and p.suffix.lower() in SUFFIXES and kind.lower() in p.name.lower()]
    if not candidates:
        raise FetchError(f"no {kind.upper()} file in {directory} (looked for names containing "
                         f"{kind.lower()!r} ending {', '.join(SUFFIXES)})")
    return max(candidates, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _download(url: str, kind: str, work_dir: Path, credentials: Credentials, timeout_s: float,
              retries: int, transport: httpx.BaseTransport | None) -> Fetched:
    parsed = urlparse(url)
    if parsed.scheme == "http" and parsed.hostname not in LOCAL_HOSTS:
        raise FetchError(f"refusing plain HTTP for {url}; use HTTPS")
    suffix = Path(parsed.path).suffix.lower()
    suffix = suffix if suffix in SUFFIXES else ".xlsx"
    headers, auth = credentials.auth()
    body = _get_with_retries(url, headers, auth, timeout_s, retries, transport)
    work_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f"{kind}-", suffix=suffix, dir=work_dir)
    with os.fdopen(handle, "wb") as out:
        out.write(body)
    return Fetched(Path(name), url)


def _get_with_retries(url: str, headers: dict[str, str], auth: httpx.BasicAuth | None,
                      timeout_s: float, retries: int,
                      transport: httpx.BaseTransport | None) -> bytes:
    last = ""
    with httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=True) as client:
        for attempt in range(retries + 1):
            try:
                response = client.get(url, headers=headers, auth=auth)
            except httpx.HTTPError as err:
                last = f"{type(err).__name__}: {err}"
            else:
                if response.status_code < 400:
                    return response.content
                last = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    break
            if attempt < retries:
                time.sleep(min(0.2 * 2 ** attempt, 5.0))
    raise FetchError(f"cannot fetch {url}: {last}")
