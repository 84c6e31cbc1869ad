"""Fetch a published CPL or FIR from a file, a directory or an HTTPS URL: the only I/O edge."""
from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpcore
import httpx

from fir_sync.errors import FetchError

SUFFIXES = (".xlsx", ".xlsm", ".csv")
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Policy:
    """Where a download may go: HTTPS only, credentials only to named hosts, no private
    addresses, no redirect to another host, and a cap on the bytes written to disk.

    Hosts are compared lower-case and exactly (no wildcards). `allow_http` and
    `allow_private` name hosts (or IP literals) that are exceptions; credentials are never
    sent over plain HTTP whatever the lists say.
    """

    credential_hosts: frozenset[str] = frozenset()
    allow_http: frozenset[str] = frozenset()
    allow_private: frozenset[str] = frozenset()
    max_bytes: int = 50 * 1024 * 1024
    max_seconds: float = 300.0

    @staticmethod
    def hosts(text: str) -> frozenset[str]:
        """A comma-separated setting as a set of lower-case host names."""
        return frozenset(h.strip().lower() for h in text.split(",") if h.strip())


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
          timeout_s: float = 30.0, retries: int = 3, policy: Policy = Policy(),
          transport: httpx.BaseTransport | None = None) -> Fetched:
    """Resolve `source` (file, directory or URL) to a local file for a `kind` (cpl or fir)."""
    scheme = urlparse(source).scheme.lower()
    if scheme in ("http", "https"):
        return _download(source, kind, work_dir, credentials, timeout_s, retries, policy,
                         transport)
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


def check_url(url: str, policy: Policy, credentials: Credentials) -> None:
    """Refuse a URL the policy does not allow, in one line naming the setting to change."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    if not host:
        raise FetchError(f"refusing {url}: no host")
    if parsed.scheme.lower() != "https":
        if host not in policy.allow_http:
            raise FetchError(f"refusing plain HTTP for {url}; use HTTPS (or list {host} in "
                             "FWO_FETCH_ALLOW_HTTP_HOSTS)")
        if credentials.auth() != ({}, None):
            raise FetchError(f"refusing to send credentials over plain HTTP to {url}")
    if credentials.auth() != ({}, None) and host not in policy.credential_hosts:
        raise FetchError(f"refusing to send credentials to {host}: not in "
                         "FWO_FETCH_CREDENTIAL_HOSTS")
    if host not in policy.allow_private and _is_private(host):
        raise FetchError(f"refusing {url}: {host} is a private, loopback or link-local address "
                         "(list it in FWO_FETCH_ALLOW_PRIVATE_HOSTS if intended)")


def _is_private(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a DNS name: checked on what it resolves to, at connect time
    return _is_private_address(address)


def _is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local
            or address.is_reserved or address.is_unspecified or address.is_multicast)


def _resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (a seam for tests)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


class _CheckedBackend(httpcore.SyncBackend):
    """Connects only to addresses the policy allows, checked on the address actually dialled.

    A DNS name is resolved once, here: every address it resolves to must be public (unless
    the name is in `allow_private`), and the connection goes to one of those checked
    addresses, so a name that answers a public address to a check and a private one to the
    connection (DNS rebinding) cannot reach inside the network. TLS still verifies the
    certificate against the name, not the address.
    """

    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                    ) -> httpcore.NetworkStream:
        name = host.lower()
        try:
            addresses = _resolve(host, port)
        except OSError as err:
            raise httpcore.ConnectError(f"cannot resolve {host}: {err}") from err
        if name not in self._policy.allow_private:
            private = [a for a in addresses if _is_private_address(ipaddress.ip_address(a))]
            if private:
                raise FetchError(f"refusing {host}: it resolves to the private, loopback or "
                                 f"link-local address {private[0]} (list {name} in "
                                 "FWO_FETCH_ALLOW_PRIVATE_HOSTS if intended)")
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}: no address")
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


def _checked_transport(policy: Policy) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport()
    # httpx offers no network-backend argument; its pool reads this attribute for every new
    # connection (httpx and httpcore are pinned; test_fetch_policy fails if this stops working).
    transport._pool._network_backend = _CheckedBackend(policy)
    return transport


def _download(url: str, kind: str, work_dir: Path, credentials: Credentials, timeout_s: float,
              retries: int, policy: Policy, transport: httpx.BaseTransport | None) -> Fetched:
    check_url(url, policy, credentials)
    suffix = Path(urlparse(url).path).suffix.lower()
    suffix = suffix if suffix in SUFFIXES else ".xlsx"
    work_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f"{kind}-", suffix=suffix, dir=work_dir)
    os.close(handle)
    path = Path(name)
    try:
        _get_with_retries(url, path, credentials, timeout_s, retries, policy, transport)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Fetched(path, url)


def _get_with_retries(url: str, path: Path, credentials: Credentials, timeout_s: float,
                      retries: int, policy: Policy,
                      transport: httpx.BaseTransport | None) -> None:
    last = ""
    headers, auth = credentials.auth()
    transport = transport or _checked_transport(policy)
    # With HTTPS_PROXY set, httpx connects to the proxy instead: the name is then checked
    # only as a literal, and the proxy's own egress rules decide (docs/operations.md).
    with httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=False) as client:
        for attempt in range(retries + 1):
            try:
                status = _get_once(client, url, path, headers, auth, policy)
            except httpx.HTTPError as err:
                last = f"{type(err).__name__}: {err}"
            else:
                if status < 400:
                    return
                last = f"HTTP {status}"
                if status < 500 and status != 429:
                    break
            if attempt < retries:
                time.sleep(min(0.2 * 2 ** attempt, 5.0))
    raise FetchError(f"cannot fetch {url}: {last}")


def _get_once(client: httpx.Client, url: str, path: Path, headers: dict[str, str],
              auth: httpx.BasicAuth | None, policy: Policy) -> int:
    """One GET streamed to `path` (following same-host redirects only); the status."""
    origin = (urlparse(url).hostname or "").lower()
    for _ in range(MAX_REDIRECTS + 1):
        with client.stream("GET", url, headers=headers, auth=auth) as response:
            if response.is_redirect:
                target = urljoin(url, response.headers.get("location", ""))
                if (urlparse(target).hostname or "").lower() != origin:
                    raise FetchError(f"refusing redirect from {url} to another host: {target}")
                if urlparse(target).scheme.lower() != urlparse(url).scheme.lower():
                    raise FetchError(f"refusing redirect from {url} to {target}: scheme changed")
                url = target
                continue
            if response.status_code >= 400:
                return response.status_code
            _stream_to(response, url, path, policy)
            return response.status_code
    raise FetchError(f"cannot fetch {url}: more than {MAX_REDIRECTS} redirects")


def _stream_to(response: httpx.Response, url: str, path: Path, policy: Policy) -> None:
    """The body to `path`, refused past `max_bytes` or `max_seconds` (a server trickling
    bytes just inside the read timeout must not hold a sync, or a shutdown, for ever)."""
    written, max_bytes = 0, policy.max_bytes
    deadline = time.monotonic() + policy.max_seconds
    with path.open("wb") as out:
        for chunk in response.iter_bytes():
            if time.monotonic() > deadline:
                raise FetchError(f"refusing {url}: still downloading after "
                                 f"{policy.max_seconds:g} s (raise FWO_FETCH_MAX_SECONDS if the "
                                 "source is genuinely this slow)")
            written += len(chunk)
            if written > max_bytes:
                raise FetchError(f"refusing {url}: larger than {max_bytes:,} bytes (raise "
                                 "FWO_FETCH_MAX_BYTES if the file is genuine)")
            out.write(chunk)
