"""Campaign input rules in the domain: every bad value is refused with one line naming it."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from orchestrator.domain.errors import PolicyError
from orchestrator.domain.policy import Budget, Policy, Wave, parse_waves
from orchestrator.domain.policy_input import (
    campaign_policy,
    check_name,
    check_policy,
    merge_budgets,
)
from orchestrator.domain.selection import Selection

# issue 13 (Why, point 3) and issue 17 (point 5): each value with words its error must contain
BAD_WAVES = [("abc", "'abc'"), ("10%,5%", "grow"), ("150%", "150"), ("0%,100%", "above 0"),
             ("nan%", "'nan%'"), ("inf%", "'inf%'"), ("1e999%", "'1e999%'"), ("-5%", "-5"),
             ("10%,10%,100%", "grow"), ("100,50", "grow"), ("0,all", "at least 1"),
             ("10%,,50%", "empty"), ("", "empty"), ("100,10%", "grow"), ("all,50%", "grow")]
BAD_WINDOWS = [("25:00-05:00", "HH:MM"), ("01:00", "HH:MM"), ("01:00-01:00", "empty"),
               ("01:00-05:61", "HH:MM"), ("1:00-5:00", "HH:MM"), ("", "HH:MM")]
BAD_BUDGETS = [("11.9=10/60", "unknown SR type '11.9'"), ("11.1=5/0", "above 0"),
               ("11.1=0/3600", "from 1"), ("11.1=-3/60", "whole number"),
               ("11.1=5/nan", "finite"), ("11.1=5/inf", "finite"), ("11.1=5/1e999", "finite"),
               ("11.1=5/-60", "from 1"), ("11.1=1.5/60", "whole number"), ("11.1", "SR=LIMIT"),
               ("11.1=", "SR=LIMIT"), ("11.1=5/", "SR=LIMIT"), ("=5/60", "SR=LIMIT"),
               ("11.1=5/abc", "not a number"), ("11.1=5/1e-300", "from 1 to 31,622,400"), ("11.1=99999999999/60", "from 1")]


@pytest.mark.parametrize("text,needle", BAD_WAVES)
def test_bad_waves_are_refused(text: str, needle: str) -> None:
    """Waves must be numbers, finite, above 0, at most 100% and strictly growing."""
    with pytest.raises(PolicyError, match=re.escape(needle)):
        campaign_policy(waves=text)


@pytest.mark.parametrize("text,needle", BAD_WINDOWS)
def test_bad_windows_are_refused(text: str, needle: str) -> None:
    """A window is two different valid HH:MM times."""
    with pytest.raises(PolicyError, match=needle):
        campaign_policy(window=text)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe/Londn", "../etc/passwd", ""])
def test_unknown_time_zones_are_refused_with_or_without_a_window(zone: str) -> None:
    """Only real IANA zones; the zone is checked even without a window."""
    with pytest.raises(PolicyError, match="time zone"):
        campaign_policy(timezone=zone)
    with pytest.raises(PolicyError, match="time zone"):
        campaign_policy(window="01:00-05:00", timezone=zone)


@pytest.mark.parametrize("spec,needle", BAD_BUDGETS)
def test_bad_budgets_are_refused(spec: str, needle: str) -> None:
    """Known SR types, whole limits of at least 1, positive finite periods."""
    with pytest.raises(PolicyError, match=re.escape(needle)):
        campaign_policy(budgets=[spec])


def test_a_budget_overrides_the_default_of_its_sr_type_only() -> None:
    """`11.1=50/60` changes 11.1; 11.4, 11.3 and 11.2 keep their defaults (never unlimited)."""
    policy = campaign_policy(budgets=["11.1=50/60"])
    assert policy.budget("11.1") == Budget("11.1", 50, 60.0)
    for sr in ("11.4", "11.3", "11.2"):
        assert policy.budget(sr) == Policy().budget(sr)
    assert Budget.parse("11.3=7") == Budget("11.3", 7, 3600.0)
    assert merge_budgets(Policy().budgets, ()) == Policy().budgets
    with pytest.raises(PolicyError, match="twice"):
        campaign_policy(budgets=["11.1=5/60", "11.1=6/60"])


def test_good_input_makes_the_policy() -> None:
    """Valid waves, counts, a wrapping window and a zone pass through unchanged."""
    policy = campaign_policy(waves="1%,10%,50%", window="23:00-02:00", timezone="UTC")
    assert [w.percent for w in policy.waves] == [1.0, 10.0, 50.0, 100.0]
    window = policy.activation_window
    assert window is not None and (window.start, window.end) == (dt.time(23), dt.time(2))
    assert [w.count for w in parse_waves("100, 1000,all")] == [100, 1000, None]
    assert parse_waves("0.5%,100%")[0].percent == 0.5


@pytest.mark.parametrize("name", ["", "   ", "a\x00b", "x" * 201])
def test_a_campaign_needs_a_printable_name(name: str) -> None:
    """Blank, control characters or over 200 characters are refused."""
    with pytest.raises(PolicyError, match="name"):
        check_name(name)


def test_a_policy_built_in_code_is_checked_too() -> None:
    """Non-finite or zero values in a Policy made without the parsers are refused."""
    bad = [Policy(budgets=(Budget("11.1", 5, 0.0),)),
           Policy(budgets=(Budget("11.1", 5, float("nan")),)),
           Policy(budgets=(Budget("8.2", 5, 60.0),)),
           Policy(waves=(Wave(percent=float("nan")),)),
           Policy(waves=(Wave(percent=50.0), Wave(percent=20.0), Wave(percent=100.0))),
           Policy(success_threshold=float("inf")),
           Policy(device_id_list_max=0)]
    for policy in bad:
        with pytest.raises(PolicyError):
            check_policy(policy)
    check_policy(dataclasses.replace(Policy(), budgets=(Budget("11.1", 3, 3600.0),)))


@pytest.mark.parametrize("spec", ["regoin=north", "devicetype=ESME", "tag:=x", "firmware=01"])
def test_an_unknown_selection_key_is_refused_naming_the_known_ones(spec: str) -> None:
    """A mistyped key is never taken for a tag; tags are written `tag:NAME`."""
    with pytest.raises(ValueError, match="--select") as caught:
        Selection.parse([spec])
    if not spec.startswith("tag:"):
        assert "known: device_id, device_type" in str(caught.value)
        assert "tag:NAME" in str(caught.value)


def test_tags_are_selected_as_tag_name() -> None:
    """`tag:Region=North` filters on the `region` tag, ignoring case, and round-trips."""
    selection = Selection.parse(["tag:Region=North"])
    assert selection.to_dict() == {"tag:region": ["north"]}
    assert Selection.parse([f"{k}={','.join(v)}" for k, v in selection.to_dict().items()]
                           ) == selection
