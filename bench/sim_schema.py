"""Benchmark the simulated DSP's schema check per request: compiled once vs re-resolved per call.

Prints one JSON line: for a small (SR 11.2) and a 50-device (SR 11.1) signed request, the
microseconds per validation the way the DSP admits requests now (schema compiled once at
DspConfig construction) and the same-run baseline of the old path (`duis.schema.validate`,
which resolves the XSD path on the filesystem and looks up the cache on every call), with
ratio = baseline / now. Also the DCC's per-message response signing (`sign_response`) with the
KeyInfo element cached on the SigningIdentity against rebuilding it per message. Needs the DCC's DUIS XSD (FWO_DUIS_XSD, or the shared reference copy).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from duis import build, schema
from duis.respond import sign_response
from duis.sign import SigningIdentity
from duis.testing.pki import Pki
from duis.testing.samples import sample_requests, sample_responses
from duis.xmlsafe import parse_xml
from simulators.dsp.config import DspConfig

ROOT = Path(__file__).resolve().parents[1]
XSD = Path(os.environ.get("FWO_DUIS_XSD")
           or ROOT.parent / "shared" / "reference" / "duis" / "DUIS_Schema_V5.4.xsd")
SECONDS = float(os.environ.get("BENCH_SECONDS", "1.0"))
ROUNDS = 5


def per_call_us(func: Callable[[], object]) -> float:
    """Microseconds per call of func, measured for about SECONDS."""
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < SECONDS:
        func()
        n += 1
    return elapsed / n * 1e6


def measure(xml: bytes, config: DspConfig) -> dict[str, float]:
    """Best-of-ROUNDS interleaved timings of the old and the current validation of xml."""
    root = parse_xml(xml)
    compiled, name = config.schema, XSD.name
    assert compiled is not None
    old, new = [], []
    for _ in range(ROUNDS):
        old.append(per_call_us(lambda: schema.validate(root, XSD)))
        new.append(per_call_us(lambda: schema.validate_compiled(root, compiled, name)))
    return {"baseline_us": round(min(old), 2), "cached_us": round(min(new), 2),
            "ratio": round(min(old) / min(new), 3)}


class _Uncached(SigningIdentity):
    """The baseline: a SigningIdentity that rebuilds KeyInfo for every message."""

    @property  # type: ignore[override]
    def key_info(self) -> str:
        return SigningIdentity.key_info.func(self)  # type: ignore[attr-defined,no-any-return]


def measure_signing(pki: Pki) -> dict[str, float]:
    """Best-of-ROUNDS interleaved us per signed response, cached vs per-message KeyInfo."""
    identity = pki.dcc_xml.identity
    uncached = _Uncached(identity.key, identity.certificate)
    response = next(iter(sample_responses().values()))
    assert sign_response(response, identity)[-200:] == sign_response(response, uncached)[-200:]
    old, new = [], []
    for _ in range(ROUNDS):
        old.append(per_call_us(lambda: sign_response(response, uncached)))
        new.append(per_call_us(lambda: sign_response(response, identity)))
    return {"baseline_us": round(min(old), 2), "cached_us": round(min(new), 2),
            "ratio": round(min(old) / min(new), 3)}


def main() -> None:
    """Run every measurement and print one JSON line."""
    pki = Pki.generate()
    requests = sample_requests(pki)
    config = DspConfig(schema_path=XSD)
    results = {key: measure(build.sign_request(requests[key], pki.supplier_xml.identity), config)
               for key in ("11.2", "11.1")}
    print(json.dumps({"bench": "sim_schema", "xsd": XSD.name, "python": platform.python_version(),
                      **{f"sr_{k.replace('.', '_')}": v for k, v in results.items()},
                      "sign_response": measure_signing(pki)}))


if __name__ == "__main__":
    main()
