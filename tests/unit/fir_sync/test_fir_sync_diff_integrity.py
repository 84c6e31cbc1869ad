"""Snapshot diffs, SHA-256 pins, detached signatures and fetching."""
from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fir_sync.diff import diff_entries
from fir_sync.errors import FetchError, IntegrityError
from fir_sync.fetch import Credentials, Policy, fetch
from fir_sync.integrity import check_sha256, check_signature, file_sha256


def test_diff_classifies_added_removed_and_changed_by_kind() -> None:
    """Status, predecessor, notes and contact changes are classified; equal entries are not."""
    old = {"1": {"status": "Active", "predecessors": []}, "2": {"status": "Active"},
           "3": {"contact_email": "a@x", "release_notes": "r1"}}
    new = {"1": {"status": "Withdrawn", "predecessors": ["9"]}, "3": {"contact_email": "b@x",
           "release_notes": "r2"}, "10": {"status": "Active"}}
    diff = diff_entries(old, new).to_dict()
    assert (diff["added"], diff["removed"]) == (["10"], ["2"])
    kinds = {c["cpl_entry_id"]: c["kinds"] for c in diff["changed"]}
    assert kinds == {"1": ["predecessors", "status"], "3": ["contact", "release_notes"]}
    assert diff_entries(new, new).empty


def test_sha256_pin_refuses_a_changed_file(tmp_path: Path) -> None:
    """A pinned hash passes for the same bytes and fails after one byte changes."""
    path = tmp_path / "fir.xlsx"
    path.write_bytes(b"published bytes")
    check_sha256(path, file_sha256(path).upper())
    path.write_bytes(b"published bytez")
    with pytest.raises(IntegrityError, match="tampered"):
        check_sha256(path, "0" * 64)


def test_detached_ecdsa_signature_verifies_and_detects_tampering(tmp_path: Path) -> None:
    """A detached ECDSA P-256 signature (raw or base64) verifies; a changed file fails."""
    key = ec.generate_private_key(ec.SECP256R1())
    data = tmp_path / "fir.xlsx"
    data.write_bytes(b"workbook bytes")
    signature = key.sign(data.read_bytes(), ec.ECDSA(hashes.SHA256()))
    public = tmp_path / "key.pem"
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / "sig.bin").write_bytes(signature)
    import base64
    (tmp_path / "sig.b64").write_bytes(base64.b64encode(signature))
    check_signature(data, tmp_path / "sig.bin", public)
    check_signature(data, tmp_path / "sig.b64", public)
    data.write_bytes(b"workbook bytez")
    with pytest.raises(IntegrityError, match="does not verify"):
        check_signature(data, tmp_path / "sig.bin", public)


def test_directory_source_takes_the_newest_matching_file(tmp_path: Path) -> None:
    """A directory resolves to its newest file whose name names the table."""
    old, new = tmp_path / "FIR_2026-10.xlsx", tmp_path / "fir_2026-11.xlsx"
    old.write_bytes(b"a")
    new.write_bytes(b"b")
    (tmp_path / "cpl_2026-12.xlsx").write_bytes(b"c")
    past = time.time() - 3600
    os.utime(old, (past, past))
    assert fetch(str(tmp_path), "fir", work_dir=tmp_path).path == new
    (tmp_path / "empty").mkdir()
    with pytest.raises(FetchError, match="no FIR file"):
        fetch(str(tmp_path / "empty"), "fir", work_dir=tmp_path)
    with pytest.raises(FetchError, match="does not exist"):
        fetch(str(tmp_path / "missing"), "fir", work_dir=tmp_path)


SECAS = Policy(credential_hosts=frozenset({"secas.example"}))


def test_https_fetch_sends_bearer_token_and_retries_server_errors(tmp_path: Path) -> None:
    """A 503 is retried; the bearer token is sent; the body lands in the work dir."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("authorization", ""))
        return httpx.Response(503 if len(calls) == 1 else 200, content=b"cells")

    fetched = fetch("https://secas.example/fir.xlsx", "fir", work_dir=tmp_path,
                    credentials=Credentials(token="t0k"), retries=2, policy=SECAS,
                    transport=httpx.MockTransport(handler))
    assert fetched.path.read_bytes() == b"cells" and fetched.path.suffix == ".xlsx"
    assert calls == ["Bearer t0k", "Bearer t0k"]


def test_https_fetch_gives_up_on_client_errors_with_basic_auth(tmp_path: Path) -> None:
    """A 401 is not retried and becomes a FetchError; basic credentials are sent."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(401)

    with pytest.raises(FetchError, match="HTTP 401"):
        fetch("https://secas.example/cpl.csv", "cpl", work_dir=tmp_path, retries=3,
              credentials=Credentials(username="u", password="p"), policy=SECAS,
              transport=httpx.MockTransport(handler))
    assert len(seen) == 1 and seen[0].startswith("Basic ")


def test_plain_http_to_a_remote_host_is_refused(tmp_path: Path) -> None:
    """Catalogue data is never fetched over plain HTTP from another host."""
    with pytest.raises(FetchError, match="refusing plain HTTP"):
        fetch("http://secas.example/cpl.xlsx", "cpl", work_dir=tmp_path)
