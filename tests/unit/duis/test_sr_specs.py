"""One table of what each SR is (`SR_SPECS`), built on `SR_TYPES`, read by the orchestrator
and the simulator alike."""
from __future__ import annotations

from duis.codes import SR_SPECS, SR_TYPES, CommandVariant
from simulators.dsp.codes import DEVICE_RULES, SR_RULES


def test_every_request_type_belongs_to_exactly_one_sr_of_its_own_variant() -> None:
    owners = [(r.key, spec.variant) for spec in SR_SPECS.values() for r in spec.requests]
    assert sorted(k for k, _ in owners) == sorted(SR_TYPES)
    assert all(SR_TYPES[key].variant == variant for key, variant in owners)


def test_the_facts_the_orchestrator_sends_by() -> None:
    assert {v: s.command_variants for v, s in SR_SPECS.items()} == {
        "11.1": (8,), "11.4": (8,), "11.3": (4, 5), "11.2": (1,), "8.2": (8,)}
    assert [v for v, s in SR_SPECS.items() if s.batched] == ["11.1", "11.4"]
    assert [v for v, s in SR_SPECS.items() if s.signs_pre_command] == ["11.3"]
    assert all(s.counters == 1 for s in SR_SPECS.values())
    assert SR_SPECS["11.3"].counted.command_variant is CommandVariant.SIGNED_PRE_COMMAND


def test_the_simulator_counts_and_routes_by_the_same_table() -> None:
    """Anomaly detection counts each SR once (the 11.3's CV5, never its CV4), and a device
    type gets the distribution SR and the device SRs the table says reach it."""
    counted = {key: rule.counted_as for key, rule in SR_RULES.items() if rule.counted_as}
    assert counted == {spec.counted.key: v for v, spec in SR_SPECS.items()}
    assert DEVICE_RULES["PPMID"].firmware_sr == "11.4"
    assert DEVICE_RULES["ESME"].firmware_sr == "11.1"
    assert DEVICE_RULES["GPF"].device_srs == frozenset({"11.2"})
    assert DEVICE_RULES["CHF"].device_srs == frozenset() and DEVICE_RULES["IHD"].firmware_sr is None
