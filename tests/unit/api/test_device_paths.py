"""A device path must be an EUI-64: anything else names no device (404), on the API and the
dashboard alike, and is never looked up or echoed back as a device's page."""
from __future__ import annotations

import pytest

from tests.unit.api.conftest import Api


@pytest.mark.parametrize("path", ["/ui/devices/not-a-meter", "/ui/devices/00-11",
                                  "/ui/devices?q=hello", "/api/fleet/devices/xyz",
                                  "/api/fleet/devices/00-0D-6F-00-00-00-00-0G/history"])
def test_a_non_eui_device_is_not_found(fake_api: Api, path: str) -> None:
    reply = fake_api.client.get(path, headers=fake_api.auth("viewer"), follow_redirects=False)
    assert reply.status_code == 404
    assert "EUI-64" in reply.text
    assert "Device not-a-meter" not in reply.text


def test_a_loosely_written_eui_is_searched_as_its_canonical_form(fake_api: Api) -> None:
    reply = fake_api.client.get("/ui/devices?q=000d6f0000000001",
                                headers=fake_api.auth("viewer"), follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/ui/devices/00-0D-6F-00-00-00-00-01"
