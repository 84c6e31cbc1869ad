"""The plan report and staleness rules, over planned fakes."""
from __future__ import annotations

from orchestrator.domain.catalogue import Catalogue, CatalogueEntry
from orchestrator.domain.fleet import Device
from orchestrator.domain.plan_report import ReportOptions, stale_reason, summarise
from orchestrator.domain.planner import Planner
from orchestrator.domain.policy import Budget


def entry(i: int, version: str, preds: tuple[str, ...] = (), device_type: str = "ESME",
          model: str = "01") -> CatalogueEntry:
    return CatalogueEntry(str(i), device_type, "106C", model, "0101", version, f"{i:064x}",
                          "4.2", "2.4GHz", "Active", preds)


CATALOGUE = Catalogue([entry(1, "01"), entry(2, "02", ("1",)), entry(3, "03", ("2",)),
                       entry(11, "01", device_type="PPMID", model="02"),
                       entry(12, "02", ("11",), device_type="PPMID", model="02")], 4)


def fleet() -> list[Device]:
    devices = []
    for n in range(7):
        current, model, kind = ((1, "01", "ESME") if n < 3 else (2, "01", "ESME") if n < 5
                                else (11, "02", "PPMID"))
        devices.append(Device(f"00-00-00-00-00-00-00-{n:02X}", kind, "106C", model,
                              "Commissioned", "0101", f"{current:064x}"))
    devices.append(Device("00-00-00-00-00-00-00-AA", "ESME", "106C", "01", "Commissioned",
                          "0101", "ff" * 32))
    devices.append(Device("00-00-00-00-00-00-00-BB", "ESME", "106C", "01", "Commissioned",
                          "0101", f"{3:064x}"))
    return devices


def test_the_report_counts_statuses_reasons_models_and_path_lengths() -> None:
    """Counts by status and reason, per model, and a histogram of planned path lengths."""
    plans = list(Planner(CATALOGUE).plan(fleet()))
    report = summarise(plans, CATALOGUE)
    assert report["devices"] == 9
    assert report["by_status"] == {"planned": 7, "up_to_date": 1, "blocked": 1}
    assert report["by_reason"] == {"unknown_firmware": 1}
    assert report["path_lengths"] == {"1": 4, "2": 3}
    assert report["security_findings"] == 1
    assert report["by_model"][0] == {"manufacturer": "106C", "model": "01", "devices": 7,
                                     "planned": 5, "up_to_date": 1, "blocked": 1}
    assert report["blocked"][0]["sample_device_ids"] == ["00-00-00-00-00-00-00-AA"]
    assert report["entries"] == ["2", "3", "12"]


def test_the_campaign_estimate_batches_images_and_counts_device_steps() -> None:
    """11.1/11.4 per (entry, batch); 11.3 and 11.2 per device-step; periods under budgets."""
    plans = list(Planner(CATALOGUE).plan(fleet()))
    day = 86400.0
    options = ReportOptions(batch_size=2, budgets=(
        Budget("11.1", 2, day), Budget("11.4", 1, day), Budget("11.3", 5, day / 2),
        Budget("11.2", 100, day)))
    campaign = summarise(plans, CATALOGUE, options)["campaign"]
    # entry 2: 3 devices -> 2 batches; entry 3: 5 devices -> 3 batches; entry 12: 2 -> 1 (11.4)
    assert campaign["requests"] == {"11.1": 5, "11.4": 1, "11.3": 10, "11.2": 10}
    assert campaign["periods_by_type"] == {"11.1": 3, "11.4": 1, "11.3": 2, "11.2": 1}
    # 11.1 needs 3 days; 11.3 two of its half-day periods: the longest decides
    assert campaign["hours_by_type"] == {"11.1": 72, "11.4": 24, "11.3": 24, "11.2": 24}
    assert campaign["hours"] == 72


def test_a_diff_touching_a_path_entry_makes_a_plan_stale() -> None:
    """Withdrawn or re-linked entries on a path give a reason; notes changes do not."""
    diff = {"removed": [], "changed": [
        {"cpl_entry_id": "3", "kinds": ["status"],
         "fields": {"status": {"old": "Active", "new": "Withdrawn"}}},
        {"cpl_entry_id": "2", "kinds": ["predecessors"],
         "fields": {"predecessors": {"old": ["1"], "new": []}}},
        {"cpl_entry_id": "12", "kinds": ["release_notes"],
         "fields": {"release_notes": {"old": "a", "new": "b"}}}]}
    reason = stale_reason(diff, {"2", "3", "12"}, 9)
    assert reason == ("catalogue snapshot 9: entry 3 status Active -> Withdrawn; "
                      "entry 2 predecessors changed")
    assert stale_reason(diff, {"12"}, 9) is None
    assert stale_reason({"removed": ["12"], "changed": []}, {"12"}, 9) == (
        "catalogue snapshot 9: entry 12 removed")
