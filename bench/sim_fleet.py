"""Benchmark the simulated fleet and DSP: memory per device and a 50,000-device SR 11.1.

Prints one JSON line:
- `fleet`: RSS growth for 100,000 devices (50,000 generated fleet rows streamed into the
  column store plus the 50,000-meter batch of one model, two meters per comms hub) and bytes
  per device;
- `batch`: `submit_s` = the DSP's synchronous answer to one signed 11.1 naming 50,000
  devices (schema check, signature check, parse, per-device screening, scheduling), and
  `deliver_s` = running every resulting event (N60 and 0x8F72 per device, each DCC-signed)
  into a no-op receiver;
- `baseline`, measured in the same run: the same request's schema validation, signature
  verification and parse alone (what any DSP must do before looking at a device), a bare loop
  of 50,000 dict look-ups, and signing one alert (the per-message floor of delivery).
Usage: python bench/sim_fleet.py [--devices 100000] [--batch 50000]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from duis import build, schema
from duis.codes import DCC_EUI
from duis.parse import parse_request
from duis.requestid import RequestId
from duis.respond import sign_response
from duis.sign import verify_document
from duis.xmlsafe import parse_xml
from simulators import GeneratedData, build_simulation
from simulators.dsp.messages import device_alert
from simulators.generate import iter_fleet_rows

# The DCC's DUIS XSD (FWO_DUIS_XSD) when the machine has it; without it schema time is null.
XSD = Path(os.environ["FWO_DUIS_XSD"]) if os.environ.get("FWO_DUIS_XSD") else None


def rss_bytes() -> int:
    """Current resident set size (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def timed(func):  # type: ignore[no-untyped-def]
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def build_world(devices: int, batch: int):  # type: ignore[no-untyped-def]
    """A simulation over `devices` devices, `batch` of them one model on its predecessor."""
    data = GeneratedData.generate(entries=200, devices=0, seed=7, image_size=4096)
    sim = build_simulation(data, receiver=lambda xml: None, schema_path=XSD)
    old, new = next((a, b) for a, b in sim.catalogue.permitted_upgrades()
                    if b.device_type == "ESME")
    gc.collect()
    before = rss_bytes()
    for row in iter_fleet_rows(data.catalogue, devices=devices - batch, seed=7):
        sim.fleet.add(*row[:10])
    ids = [f"FE-ED-{k >> 32 & 255:02X}-{k >> 24 & 255:02X}-{k >> 16 & 255:02X}-"
           f"{k >> 8 & 255:02X}-{k & 255:02X}-01" for k in range(batch)]
    for k, device_id in enumerate(ids):
        hub = k // 2  # two meters per premises, as in generated fleets
        sim.fleet.add(device_id, "ESME", old.manufacturer, old.model, old.hardware_version,
                      old.image_hash, old.firmware_version, "Commissioned",
                      f"FE-EE-00-00-{hub >> 16 & 255:02X}-{hub >> 8 & 255:02X}-{hub & 255:02X}-01",
                      "4.2")
    gc.collect()
    return sim, new, ids, rss_bytes() - before


def baseline(xml: bytes, sim, ids: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """What the DSP cannot avoid, measured on the same request and fleet."""
    root = parse_xml(xml)
    _, schema_s = timed(lambda: schema.validate(root, XSD)) if XSD else (None, None)
    _, verify_s = timed(lambda: verify_document(root, sim.dsp.ctx.users.trust, sim.clock.now()))
    _, parse_s = timed(lambda: parse_request(root))
    lookup = {d: i for i, d in enumerate(ids)}
    _, lookups_s = timed(lambda: [lookup[d] for d in ids])
    alert = device_alert(0x8F72, ids[0], DCC_EUI, 1, sim.clock.now(), bytes(32))
    n = 200
    _, sign_s = timed(lambda: [sign_response(alert, sim.dsp.dcc_identity) for _ in range(n)])
    return {"schema_validate_s": schema_s and round(schema_s, 4),
            "verify_signature_s": round(verify_s, 4),
            "parse_request_s": round(parse_s, 4), "dict_lookups_s": round(lookups_s, 4),
            "sign_one_message_us": round(sign_s / n * 1e6, 1)}


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=50_000)
    args = parser.parse_args()
    sim, new, ids, fleet_bytes = build_world(args.devices, args.batch)
    user = sim.users["IS"]
    request = build.update_firmware(RequestId(user.eui, DCC_EUI, 1), sim.upgrade_image(new.cpl_entry_id),
                                    new.firmware_version, ids)
    xml, sign_s = timed(lambda: user.sign(request))
    answer, submit_s = timed(lambda: sim.verify(sim.dsp.submit(xml)))
    delivered, deliver_s = timed(sim.dsp.run_until_idle)
    floor = baseline(xml, sim, ids)
    print(json.dumps({
        "bench": "sim_fleet", "python": platform.python_version(),
        "fleet": {"devices": len(sim.fleet), "rss_mb": round(fleet_bytes / 2**20, 1),
                  "bytes_per_device": round(fleet_bytes / args.devices)},
        "batch": {"devices": len(ids), "request_bytes": len(xml),
                  "response_code": answer.header.response_code,
                  "accepted": sim.dsp.stats.get("devices_accepted", 0),
                  "supplier_sign_s": round(sign_s, 3), "submit_s": round(submit_s, 3),
                  "submit_us_per_device": round(submit_s / len(ids) * 1e6, 2),
                  "deliver_s": round(deliver_s, 2), "messages": delivered,
                  "messages_per_s": round(delivered / deliver_s),
                  "simulated_hours": round((sim.clock.now() - sim.dsp.journal[0].at)
                                           .total_seconds() / 3600, 2)},
        "baseline": floor,
        "ratio": {"submit_vs_schema_verify_parse": round(
            submit_s / ((floor["schema_validate_s"] or 0.0) + floor["verify_signature_s"]
                        + floor["parse_request_s"]), 2),
                  "deliver_vs_signing": round(deliver_s / (
                      delivered * floor["sign_one_message_us"] / 1e6), 2)},
    }))


if __name__ == "__main__":
    main()
