"""Request builders: models, DeviceIDList batching, XML structure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from duis import build
from duis.codes import SR_NS, SR_TYPES, CommandVariant
from duis.errors import DuisError, IdentifierError, RequestBuildError
from duis.models import ReadFirmwareVersion, ReadInventory
from duis.requestid import InMemoryCounterSource, RequestId
from duis.testing.pki import Pki
from duis.testing.samples import DCC, DEVICE, SUPPLIER, sample_requests

DEVICES = [f"00-DB-12-34-56-78-{i // 256:02X}-{i % 256:02X}" for i in range(120)]


def _names(element: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in element]


def test_batches_respect_the_maximum_count_and_keep_order() -> None:
    """Batches are at most max_count long and cover every device once, in order."""
    batches = build.batch_device_ids(DEVICES, max_count=50)
    assert [len(b) for b in batches] == [50, 50, 20]
    assert [d for b in batches for d in b] == DEVICES


def test_batches_respect_the_schema_character_limit() -> None:
    """A character limit smaller than max_count * 24 shrinks the batches."""
    batches = build.batch_device_ids(DEVICES, max_count=1000, max_chars=23 * 10 + 9)
    assert max(len(b) for b in batches) == 10
    assert all(len(",".join(b)) <= 239 for b in batches)


def test_default_character_limit_allows_fifty_thousand_devices() -> None:
    """The schema's 1,199,999 characters hold exactly 50,000 EUIs."""
    many = [
        f"00-DB-12-34-{i >> 16 & 255:02X}-{i >> 8 & 255:02X}-{i & 255:02X}-00"
        for i in range(50_001)
    ]
    assert [len(b) for b in build.batch_device_ids(many, max_count=10**6)] == [50_000, 1]


def test_duplicates_are_dropped_and_bad_ids_rejected() -> None:
    """A device appears once; a malformed EUI is a typed error."""
    assert build.batch_device_ids([DEVICE, DEVICE.lower()], 10) == [(DEVICE,)]
    with pytest.raises(IdentifierError):
        build.batch_device_ids(["nope"], 10)
    with pytest.raises(RequestBuildError):
        build.batch_device_ids(DEVICES, 0)


def test_update_firmware_batches_target_the_dcc_with_fresh_counters() -> None:
    """Each batch is its own 11.1 to the DCC EUI with a new counter."""
    requests = build.update_firmware_batches(
        SUPPLIER, InMemoryCounterSource(99), b"img", "01", DEVICES, max_count=50
    )
    assert [r.request_id.counter for r in requests] == [100, 101, 102]
    assert {r.request_id.target for r in requests} == {DCC}


def test_header_order_and_values_follow_the_sr_table() -> None:
    """Header children come in schema order with the table's values."""
    root = build.to_element(ReadFirmwareVersion(RequestId(SUPPLIER, DEVICE, 5)))
    header = root.find(f"{{{SR_NS}}}Header")
    assert _names(header) == [
        "RequestID",
        "CommandVariant",
        "ServiceReference",
        "ServiceReferenceVariant",
    ]
    assert [c.text for c in header] == [f"{SUPPLIER}:{DEVICE}:5", "1", "11.2", "11.2"]
    assert root.get("schemaVersion") == "5.4"


def test_cancellation_uses_the_far_future_date() -> None:
    """Cancel writes ExecutionDateTime 3000-12-31T00:00:00Z with CommandVariant 4."""
    request = build.activate_firmware(RequestId(SUPPLIER, DEVICE, 1), "ab" * 32, cancel=True)
    root = build.to_element(request)
    assert root.findtext(f".//{{{SR_NS}}}ExecutionDateTime") == "3000-12-31T00:00:00Z"
    assert root.findtext(f".//{{{SR_NS}}}CommandVariant") == "4"
    assert root.findtext(f".//{{{SR_NS}}}FirmwareHash") == "AB" * 32


@pytest.mark.parametrize(
    "kwargs",
    [
        {"firmware_hash": "ab" * 31},
        {"firmware_hash": "zz" * 32},
        {"firmware_hash": "ab" * 32, "at": datetime(2030, 1, 1)},
        {"firmware_hash": "ab" * 32, "at": datetime(2030, 1, 1, tzinfo=UTC), "cancel": True},
    ],
)
def test_bad_activation_requests_are_refused(kwargs: dict[str, object]) -> None:
    """Short or non-hex hashes, naive times and time-plus-cancel are refused."""
    with pytest.raises(RequestBuildError):
        build.activate_firmware(RequestId(SUPPLIER, DEVICE, 1), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("version", "devices", "image"),
    [
        ("123456789", [DEVICE], b"x"),
        ("", [DEVICE], b"x"),
        ("1", [], b"x"),
        ("1", [DEVICE], b""),
        ("1", ["00-DB"], b"x"),
    ],
)
def test_bad_update_firmware_requests_are_refused(
    version: str, devices: list[str], image: bytes
) -> None:
    """Version length, empty lists, empty images and bad EUIs are refused."""
    with pytest.raises(DuisError):
        build.update_firmware(RequestId(SUPPLIER, DCC, 1), image, version, devices)


def test_read_inventory_normalises_and_checks_the_device() -> None:
    """The 8.2 device ID is upper-cased; garbage is refused."""
    assert ReadInventory(RequestId(SUPPLIER, DCC, 1), DEVICE.lower()).device_id == DEVICE
    with pytest.raises(IdentifierError):
        ReadInventory(RequestId(SUPPLIER, DCC, 1), "nonsense")


def test_sr_table_matches_domain_command_variants() -> None:
    """11.1/11.4/8.2 are DCC-only (8), 11.2 goes to the device (1), 11.3 is critical (4 then 5)."""
    cv = {k: v.command_variant for k, v in SR_TYPES.items()}
    assert cv["update_firmware"] == cv["update_ppmid_firmware"] == cv["read_inventory"] == 8
    assert cv["read_firmware_version"] == CommandVariant.SEND_TO_DEVICE
    assert (cv["activate_firmware"], cv["activate_firmware_signed"]) == (4, 5)


def test_direct_canonical_form_equals_lxml_c14n_for_every_request(pki: Pki) -> None:
    """The hand-written C14N bytes we sign equal lxml's C14N of the same request."""
    for request in sample_requests(pki).values():
        expected = etree.tostring(build.to_element(request), method="c14n")
        assert build.canonical_request(request) == expected


@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
        | st.sampled_from("&<>\r\n\t\"'"),
        min_size=1,
        max_size=8,
    )
)
def test_canonical_form_escapes_any_firmware_version(version: str) -> None:
    """Special characters in FirmwareVersion are escaped exactly as C14N does."""
    request = build.update_firmware(RequestId(SUPPLIER, DCC, 1), b"img", version, [DEVICE])
    assert build.canonical_request(request) == etree.tostring(
        build.to_element(request), method="c14n"
    )


def test_bad_schema_version_is_refused() -> None:
    """schemaVersion must be a decimal."""
    with pytest.raises(RequestBuildError):
        build.to_element(ReadFirmwareVersion(RequestId(SUPPLIER, DEVICE, 1)), schema_version='5"4')
