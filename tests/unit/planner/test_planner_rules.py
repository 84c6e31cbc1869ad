"""Planner rules on hand-built catalogues: paths, tie-breaks and every blocked reason."""
from __future__ import annotations

from orchestrator.domain.catalogue import Catalogue, CatalogueEntry
from orchestrator.domain.fleet import Device
from orchestrator.domain.planner import Planner, PlanningPolicy

MAKER, MODEL, HW = "106C", "433100AC", "0101"


def entry(i: int, version: str, preds: tuple[str, ...] | None = (), status: str = "Active",
          **kw: str) -> CatalogueEntry:
    return CatalogueEntry(
        str(i), kw.pop("device_type", "ESME"), kw.pop("manufacturer", MAKER),
        kw.pop("model", MODEL), kw.pop("hw", HW), version, kw.pop("image_hash", h(i)),
        kw.pop("gbcs", "3.2"), kw.pop("han", "2.4GHz"), status, preds, has_fir=True,
        contact_email="fw@maker.example", contact_telephone="+44 20 7946 0000", **kw)


def h(i: int) -> str:
    return f"{i:064x}"


def device(current: int | str, **kw: str) -> Device:
    firmware = h(current) if isinstance(current, int) else current
    return Device(kw.pop("device_id", "00-DB-12-34-56-78-90-A0"), kw.pop("device_type", "ESME"),
                  kw.pop("manufacturer", MAKER), kw.pop("model", MODEL),
                  kw.pop("status", "Commissioned"), kw.pop("hardware_version", HW),
                  firmware, **kw)


def plan(entries: list[CatalogueEntry], dev: Device, target: str = "latest",
         policy: PlanningPolicy | None = None) -> dict[str, object]:
    return Planner(Catalogue(entries, 1), policy).outcome(dev, target).to_dict()


LINEAR = [entry(1, "01"), entry(2, "02", ("1",)), entry(3, "03", ("2",)), entry(4, "04", ("3",))]


def test_a_linear_lineage_is_applied_in_order_up_to_the_latest() -> None:
    """A device on the first entry gets every later entry, in order, ending at the latest."""
    result = plan(LINEAR, device(1))
    assert (result["status"], result["reason"]) == ("planned", None)
    assert (result["current_entry"], result["target_entry"]) == ("1", "4")
    assert result["path"] == ["2", "3", "4"]


def test_multiple_predecessors_give_the_fewest_hops() -> None:
    """An entry listing several previous versions lets a device skip intermediate ones."""
    entries = [*LINEAR[:3], entry(4, "04", ("2", "3"))]
    assert plan(entries, device(1))["path"] == ["2", "4"]


def test_equally_short_paths_break_ties_by_the_smallest_entry_ids() -> None:
    """Of two two-hop paths, the lexicographically smallest entry-ID sequence wins."""
    entries = [entry(1, "01"), entry(3, "02", ("1",)), entry(2, "02", ("1",)),
               entry(10, "03", ("2", "3"))]
    assert plan(entries, device(1))["path"] == ["2", "10"]
    numeric = [entry(1, "01"), entry(9, "02", ("1",)), entry(10, "02", ("1",)),
               entry(11, "03", ("9", "10"))]
    assert plan(numeric, device(1))["path"] == ["9", "11"]


def test_a_device_on_the_target_is_up_to_date() -> None:
    """current == target means nothing to do, whatever the device status."""
    result = plan(LINEAR, device(4, status="Suspended"))
    assert (result["status"], result["path"], result["reason"]) == ("up_to_date", [], None)


def test_na_means_no_previous_version_so_no_path() -> None:
    """An entry whose predecessors are N/A cannot be reached: no_permitted_path, not unknown."""
    entries = [entry(1, "01"), entry(2, "02", ())]
    result = plan(entries, device(1))
    assert result["reason"] == "no_permitted_path"
    assert result["next_action"]["action"] == "site_visit_or_manufacturer_contact"
    assert result["next_action"]["contact"]["email"] == "fw@maker.example"


def test_unknown_predecessors_are_never_guessed() -> None:
    """A legacy entry without predecessor data blocks with path_unknown and names it."""
    entries = [entry(1, "01", None), entry(2, "02", None), entry(3, "03", ("2",))]
    result = plan(entries, device(1))
    assert (result["status"], result["reason"]) == ("blocked", "path_unknown")
    assert result["next_action"]["unknown_entries"] == ["2"]
    assert result["next_action"]["action"] == "contact_manufacturer"


def test_a_policy_may_allow_guessing_unknown_predecessors() -> None:
    """With allow_unknown_predecessors the next lower version is assumed, and said so."""
    entries = [entry(1, "01", None), entry(2, "02", None), entry(3, "03", ("2",))]
    result = plan(entries, device(1), policy=PlanningPolicy(allow_unknown_predecessors=True))
    assert (result["status"], result["path"]) == ("planned", ["2", "3"])
    assert result["next_action"]["assumed_predecessors"] == ["2"]


def test_cycles_in_the_predecessor_graph_are_ignored_safely() -> None:
    """A cycle neither loops the search nor lengthens the path."""
    entries = [entry(1, "01", ("3",)), entry(2, "02", ("1", "3")), entry(3, "03", ("2",)),
               entry(4, "04", ("3", "4"))]
    assert plan(entries, device(1))["path"] == ["2", "3", "4"]
    assert plan(entries, device(3))["path"] == ["4"]


def test_a_withdrawn_intermediate_is_routed_around_when_possible() -> None:
    """A path never enters a Withdrawn entry; a skip edge avoids it."""
    entries = [entry(1, "01"), entry(2, "02", ("1",), status="Withdrawn"),
               entry(3, "03", ("1", "2")), entry(4, "04", ("3",))]
    assert plan(entries, device(1))["path"] == ["3", "4"]


def test_a_withdrawn_intermediate_without_a_way_round_names_the_furthest_entry() -> None:
    """Blocked by a Withdrawn middle: the furthest reachable Active entry is named."""
    entries = [entry(1, "01"), entry(2, "02", ("1",)), entry(3, "03", ("2",),
                                                          status="Withdrawn"),
               entry(4, "04", ("3",))]
    result = plan(entries, device(1))
    assert result["reason"] == "no_permitted_path"
    assert result["next_action"]["furthest_reachable_entry"] == "2"


def test_a_device_on_a_withdrawn_entry_can_still_leave_it() -> None:
    """The current entry need not be Active; only entries entered must be."""
    entries = [entry(1, "01", status="Withdrawn"), entry(2, "02", ("1",))]
    assert plan(entries, device(1))["path"] == ["2"]


def test_same_version_under_two_hashes() -> None:
    """Twin entries: each hash identifies its own entry, both plan to the next version."""
    entries = [entry(1, "01"), entry(2, "02", ("1",)), entry(3, "02", ("1",)),
               entry(4, "03", ("2", "3"))]
    assert plan(entries, device(2))["path"] == ["4"]
    assert plan(entries, device(3))["path"] == ["4"]
    by_version = device("", firmware_version="02")
    result = plan(entries, by_version)
    assert result["reason"] == "current_unidentified"
    assert plan(entries, device("", firmware_version="01"))["path"] == ["2", "4"]


def test_latest_with_twin_top_entries_picks_the_shortest_then_smallest() -> None:
    """When the newest version has two Active entries, either counts as up to date."""
    entries = [entry(1, "01"), entry(2, "02", ("1",)), entry(3, "02", ("1",))]
    assert plan(entries, device(1))["path"] == ["2"]
    assert plan(entries, device(3))["status"] == "up_to_date"


def test_unknown_hash_is_a_security_finding() -> None:
    """A hash on no CPL entry blocks with unknown_firmware, flagged as a security finding."""
    result = plan(LINEAR, device("ab" * 32))
    assert result["reason"] == "unknown_firmware"
    assert result["next_action"]["security_finding"] is True
    assert result["current_entry"] is None


def test_a_hash_listed_only_for_another_model_is_unknown_firmware() -> None:
    """The hash must be an entry of the device's manufacturer, model and hardware version."""
    result = plan(LINEAR, device(2, model="99999999"))
    assert result["reason"] == "unknown_firmware"
    assert result["next_action"]["listed_for_other_model"] == ["2"]


def test_a_device_that_is_not_commissioned_is_blocked() -> None:
    """Firmware updates need a Commissioned device."""
    result = plan(LINEAR, device(1, status="InstalledNotCommissioned"))
    assert result["reason"] == "not_commissioned"
    assert "InstalledNotCommissioned" in result["next_action"]["message"]


def test_a_comms_hub_on_an_older_gbcs_version_blocks() -> None:
    """Every entry on the path must be supported by the comms hub's GBCS version."""
    entries = [entry(1, "01"), entry(2, "02", ("1",), gbcs="4.0"), entry(3, "03", ("2",))]
    result = plan(entries, device(1, comms_hub_gbcs_version="3.2"))
    assert result["reason"] == "ch_gbcs_incompatible"
    assert result["next_action"]["entry"] == "2"
    assert plan(entries, device(1, comms_hub_gbcs_version="4.2"))["status"] == "planned"
    assert plan(entries, device(1))["status"] == "planned"  # unknown hub: the DSP checks


def test_a_sub_ghz_only_image_behind_a_2_4_ghz_hub_blocks() -> None:
    """Band rule: the image's bands must meet the hub's bands."""
    sub = [entry(1, "01", han="Sub-GHz"),
           entry(2, "02", ("1",), han="Sub-GHz", zigbee_band_join_option="Sub-GHz Only")]
    result = plan(sub, device(1, han_variant="2.4GHz"))
    assert result["reason"] == "han_band_incompatible"
    assert result["next_action"]["hub_bands"] == ["2.4GHz"]
    assert plan(sub, device(1, han_variant="Dual Band"))["status"] == "planned"
    multi = [entry(1, "01"), entry(2, "02", ("1",), han="Dual Band",
                                   zigbee_band_join_option="Multi MAC Selection – Auto")]
    assert plan(multi, device(1, han_variant="Sub-GHz"))["status"] == "planned"


def test_smets2_comms_hubs_are_left_to_the_dcc() -> None:
    """CHF (and GPF) devices are upgraded by the DCC, not planned."""
    hub = [entry(1, "01", device_type="CHF"), entry(2, "02", ("1",), device_type="CHF")]
    result = plan(hub, device(1, device_type="CHF"))
    assert (result["reason"], result["next_action"]["action"]) == ("dcc_managed_device",
                                                                  "leave_to_dcc")
    assert plan(hub, device(1, device_type="GPF"))["reason"] == "dcc_managed_device"


def test_device_types_out_of_scope_follow_the_policy_table() -> None:
    """IHDs are not upgraded by default; a policy can opt them in."""
    ihd = [entry(1, "01", device_type="IHD"), entry(2, "02", ("1",), device_type="IHD")]
    assert plan(ihd, device(1, device_type="IHD"))["reason"] == "device_type_not_supported"
    policy = PlanningPolicy(device_types={"IHD": "upgrade"})
    assert plan(ihd, device(1, device_type="IHD"), policy=policy)["path"] == ["2"]


def test_an_explicit_target_that_is_not_active_blocks() -> None:
    """An explicit Withdrawn target is target_not_active; an Active one is planned."""
    entries = [*LINEAR[:3], entry(4, "04", ("3",), status="Withdrawn")]
    result = plan(entries, device(1), target="4")
    assert (result["reason"], result["target_entry"]) == ("target_not_active", "4")
    assert plan(entries, device(1), target="3")["path"] == ["2", "3"]
    assert plan(entries, device(1))["target_entry"] == "3"  # latest skips it


def test_an_explicit_target_of_another_model_blocks() -> None:
    """A target for another model or hardware version is never applied."""
    entries = [*LINEAR, entry(9, "05", ("4",), hw="0200")]
    assert plan(entries, device(1), target="9")["reason"] == "target_not_for_model"


def test_a_model_without_any_active_entry_has_no_latest() -> None:
    """`latest` needs an Active entry of the device's model and hardware version."""
    entries = [entry(1, "01", status="Expired"), entry(2, "02", ("1",), status="Cancelled")]
    assert plan(entries, device(1))["reason"] == "target_not_active"


def test_devices_in_the_same_situation_share_one_memoised_outcome() -> None:
    """The second device costs look-ups only: its outcome is the very same object."""
    planner = Planner(Catalogue(LINEAR, 1))
    first = planner.outcome(device(1, device_id="00-00-00-00-00-00-00-01"))
    second = planner.outcome(device(1, device_id="00-00-00-00-00-00-00-02"))
    assert first is second
    plans = list(planner.plan([device(1), device(4)], "4"))
    assert [p.outcome.status for p in plans] == ["planned", "up_to_date"]
    assert plans[0].to_dict()["device_id"] == "00-DB-12-34-56-78-90-A0"
