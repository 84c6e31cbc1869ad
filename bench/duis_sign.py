"""Benchmark DUIS signing and verification against the cryptographic floor, in one run.

Prints one JSON line: requests/s for building+signing SR 11.1 (50 devices, 256 KiB image) and
SR 11.3, responses/s for verify+parse, and for each the floor measured in the same run (SHA-256
over the same bytes plus one ECDSA sign or verify) with ratio = ours / floor (1.0 = at the floor).
Verification also has `floor_with_c14n_per_s` / `ratio_with_c14n`: the ECDSA verify plus both
canonical forms a verifier must compute (SignedInfo and document) and the document's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from duis import build, respond
from duis.codes import DS_NS
from duis.keys import TrustStore
from duis.parse import verify_response
from duis.requestid import RequestId
from duis.testing.pki import Pki
from duis.testing.samples import DCC, DEVICE, SUPPLIER, sample_responses

SECONDS = float(os.environ.get("BENCH_SECONDS", "1.5"))


def rate(func: Callable[[], object]) -> float:
    """Calls per second of func, measured for about SECONDS after a warm-up."""
    func()
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < SECONDS:
        func()
        n += 1
    return n / elapsed


def floor_sign(key: ec.EllipticCurvePrivateKey, size: int) -> float:
    """SHA-256 over `size` bytes plus one ECDSA-P256 signature."""
    data = os.urandom(size)
    return rate(lambda: key.sign(hashlib.sha256(data).digest(), ec.ECDSA(hashes.SHA256())))


def floor_verify(key: ec.EllipticCurvePrivateKey, size: int) -> float:
    """SHA-256 over `size` bytes plus one ECDSA-P256 verification."""
    data, public = os.urandom(size), key.public_key()
    sig = key.sign(b"x", ec.ECDSA(hashes.SHA256()))
    return rate(
        lambda: public.verify(sig, b"x", ec.ECDSA(hashes.SHA256())) or hashlib.sha256(data).digest()
    )


def floor_verify_c14n(key: ec.EllipticCurvePrivateKey, response: bytes) -> float:
    """The issue's verify floor for one response: the same ECDSA verify, plus what no
    verifier can skip, both canonical forms (SignedInfo, exclusive; the document, inclusive)
    and the document's SHA-256, on a tree parsed once outside the loop."""
    root = etree.fromstring(response)
    signed_info = root.find(f".//{{{DS_NS}}}SignedInfo")
    assert signed_info is not None
    public, sig = key.public_key(), key.sign(b"x", ec.ECDSA(hashes.SHA256()))

    def once() -> None:
        etree.tostring(signed_info, method="c14n", exclusive=True)
        hashlib.sha256(etree.tostring(root, method="c14n")).digest()
        public.verify(sig, b"x", ec.ECDSA(hashes.SHA256()))

    return rate(once)


def main() -> None:
    """Run every measurement and print one JSON line."""
    pki = Pki.generate()
    ident, key = pki.supplier_xml.identity, pki.supplier_xml.key
    image = os.urandom(256 * 1024)
    devices = [f"00-DB-12-34-56-78-{i // 256:02X}-{i % 256:02X}" for i in range(50)]
    counter = iter(range(1, 10**9))

    def sign_11_1() -> bytes:
        rid = RequestId(SUPPLIER, DCC, next(counter))
        return build.sign_request(build.update_firmware(rid, image, "ACDCACDC", devices), ident)

    def sign_11_3() -> bytes:
        rid = RequestId(SUPPLIER, DEVICE, next(counter))
        return build.sign_request(build.activate_firmware(rid, "ab" * 32), ident)

    response = respond.sign_response(sample_responses()["warnings"], pki.dcc_xml.identity)
    trust = TrustStore.of([pki.dcc_xml.certificate])
    size_11_1, size_11_3 = len(sign_11_1()), len(sign_11_3())
    result = {
        "bench": "duis_sign",
        "python": platform.python_version(),
        "sr_11_1": {
            "devices": 50,
            "image_bytes": len(image),
            "doc_bytes": size_11_1,
            "per_s": rate(sign_11_1),
            "floor_per_s": floor_sign(key, size_11_1),
        },
        "sr_11_3": {
            "doc_bytes": size_11_3,
            "per_s": rate(sign_11_3),
            "floor_per_s": floor_sign(key, size_11_3),
        },
        "verify_response": {
            "doc_bytes": len(response),
            "per_s": rate(lambda: verify_response(response, trust)),
            "floor_per_s": floor_verify(key, len(response)),
            "floor_with_c14n_per_s": floor_verify_c14n(key, response),
        },
    }
    verify = result["verify_response"]
    assert isinstance(verify, dict)
    verify["ratio_with_c14n"] = round(verify["per_s"] / verify["floor_with_c14n_per_s"], 3)
    verify["floor_with_c14n_per_s"] = round(verify["floor_with_c14n_per_s"], 1)
    for name in ("sr_11_1", "sr_11_3", "verify_response"):
        entry = result[name]
        assert isinstance(entry, dict)
        entry["ratio"] = round(entry["per_s"] / entry["floor_per_s"], 3)
        entry["per_s"], entry["floor_per_s"] = (
            round(entry["per_s"], 1),
            round(entry["floor_per_s"], 1),
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
