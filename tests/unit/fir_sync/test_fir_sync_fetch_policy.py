"""Downloads obey the fetch policy, against a real local HTTP listener."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from fir_sync import fetch as fetch_module
from fir_sync.errors import FetchError
from fir_sync.fetch import Credentials, Policy, fetch

LOCAL = frozenset({"127.0.0.1"})
OPEN = Policy(allow_http=LOCAL, allow_private=LOCAL)


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Handler.seen.append(self.headers.get("Authorization", ""))
        port = self.server.server_address[1]
        if self.path == "/elsewhere":
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/cpl.csv")
            self.end_headers()
        elif self.path == "/same":
            self.send_response(302)
            self.send_header("Location", "/cpl.csv")
            self.end_headers()
        elif self.path == "/slow.csv":  # a trickle, each chunk inside any read timeout
            self.send_response(200)
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b"x" * 1024)
                self.wfile.flush()
                time.sleep(0.1)
        elif self.path == "/big.csv":
            self.send_response(200)
            self.end_headers()
            for _ in range(64):
                self.wfile.write(b"x" * 65536)
        else:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"cells")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.seen.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_plain_http_needs_an_explicit_setting(base: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="refusing plain HTTP .*FWO_FETCH_ALLOW_HTTP_HOSTS"):
        fetch(f"{base}/cpl.csv", "cpl", work_dir=tmp_path, retries=0,
              policy=Policy(allow_private=LOCAL))
    assert fetch(f"{base}/cpl.csv", "cpl", work_dir=tmp_path, retries=0,
                 policy=OPEN).path.read_bytes() == b"cells"


def test_loopback_is_refused_unless_allowed(base: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="private, loopback or link-local"):
        fetch(f"{base}/cpl.csv", "cpl", work_dir=tmp_path, retries=0,
              policy=Policy(allow_http=LOCAL))
    for url in ("https://169.254.169.254/cpl.csv", "https://10.0.0.5/cpl.csv",
                "https://[::1]/cpl.csv", "https://localhost/cpl.csv"):
        with pytest.raises(FetchError, match="private, loopback or link-local"):
            fetch(url, "cpl", work_dir=tmp_path, retries=0)
    assert _Handler.seen == []


def test_credentials_go_only_to_listed_hosts_and_never_over_http(base: str,
                                                                 tmp_path: Path) -> None:
    token = Credentials(token="t0k")
    with pytest.raises(FetchError, match="credentials to secas.example: not in "
                                         "FWO_FETCH_CREDENTIAL_HOSTS"):
        fetch("https://secas.example/cpl.csv", "cpl", work_dir=tmp_path, credentials=token)
    listed = Policy(allow_http=LOCAL, allow_private=LOCAL, credential_hosts=LOCAL)
    with pytest.raises(FetchError, match="credentials over plain HTTP"):
        fetch(f"{base}/cpl.csv", "cpl", work_dir=tmp_path, credentials=token, policy=listed)
    assert _Handler.seen == []


def test_redirects_stay_on_the_same_host(base: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="redirect .* to another host"):
        fetch(f"{base}/elsewhere", "cpl", work_dir=tmp_path, retries=0, policy=OPEN)
    assert fetch(f"{base}/same", "cpl", work_dir=tmp_path, retries=0,
                 policy=OPEN).path.read_bytes() == b"cells"
    assert len(_Handler.seen) == 3


def test_a_download_over_the_cap_is_refused_and_removed(base: str, tmp_path: Path) -> None:
    capped = Policy(allow_http=LOCAL, allow_private=LOCAL, max_bytes=1024 * 1024)
    with pytest.raises(FetchError, match=r"larger than 1,048,576 bytes .*FWO_FETCH_MAX_BYTES"):
        fetch(f"{base}/big.csv", "cpl", work_dir=tmp_path / "dl", retries=0, policy=capped)
    assert list((tmp_path / "dl").iterdir()) == []


def test_a_trickling_download_is_refused_after_the_time_cap(base: str, tmp_path: Path) -> None:
    """A server sending a little every 0.1 s never trips the read timeout; the total cap
    ends the download (the listener would take 3 s) and removes the partial file."""
    capped = Policy(allow_http=LOCAL, allow_private=LOCAL, max_seconds=0.5)
    with pytest.raises(FetchError, match=r"still downloading after 0.5 s .*FWO_FETCH_MAX_SECONDS"):
        fetch(f"{base}/slow.csv", "cpl", work_dir=tmp_path / "dl", retries=0, policy=capped)
    assert list((tmp_path / "dl").iterdir()) == []


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A resolver the test controls: names map to the addresses listed here."""
    table: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown name {host}")
        return table[host]

    monkeypatch.setattr(fetch_module, "_resolve", resolve)
    return table


def test_a_name_resolving_to_a_private_address_is_refused(base: str, tmp_path: Path,
                                                          dns: dict[str, list[str]]) -> None:
    port = base.rsplit(":", 1)[1]
    dns["catalogue.example"] = ["127.0.0.1"]
    dns["mixed.example"] = ["93.184.216.34", "10.1.2.3"]
    dns["mapped.example"] = ["::ffff:169.254.169.254"]
    http_ok = Policy(allow_http=frozenset(dns))
    for name, address in (("catalogue.example", "127.0.0.1"), ("mixed.example", "10.1.2.3"),
                          ("mapped.example", "::ffff:169.254.169.254")):
        with pytest.raises(FetchError, match=f"{name}: it resolves to the private, loopback "
                                             f"or link-local address {address}"):
            fetch(f"http://{name}:{port}/cpl.csv", "cpl", work_dir=tmp_path, retries=0,
                  policy=http_ok)
    assert _Handler.seen == []


def test_the_checked_address_is_the_one_dialled(base: str, tmp_path: Path,
                                                dns: dict[str, list[str]]) -> None:
    """An allowed private name is fetched from the address the check saw: the connection
    goes to the resolved address (this name exists nowhere else), not a second lookup."""
    port = base.rsplit(":", 1)[1]
    dns["catalogue.internal"] = ["127.0.0.1"]
    allowed = Policy(allow_http=frozenset(dns), allow_private=frozenset(dns))
    fetched = fetch(f"http://catalogue.internal:{port}/cpl.csv", "cpl", work_dir=tmp_path,
                    retries=0, policy=allowed)
    assert fetched.path.read_bytes() == b"cells"
    assert len(_Handler.seen) == 1
