"""Responses are written straight to their canonical form (as requests are): the bytes are
exactly lxml's inclusive C14N of the same document, and what is read back writes them again."""
from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from duis import respond
from duis.errors import RequestBuildError
from duis.models import DccAlert, FirmwareVersionMismatch, Response
from duis.parse import parse_response
from duis.testing.samples import DEVICE, sample_responses


def _canonical(data: bytes) -> bytes:
    return etree.tostring(etree.fromstring(data), method="c14n")


@pytest.mark.parametrize("name", sorted(sample_responses()))
def test_each_kind_is_written_in_canonical_form_and_reads_back(name: str) -> None:
    response = sample_responses()[name]
    written = respond.canonical_response(response)
    assert written == _canonical(written)
    read = parse_response(written)  # what is read writes the same bytes again
    assert (read.header, type(read.body)) == (response.header, type(response.body))
    assert respond.canonical_response(read) == written


def test_text_and_attributes_are_escaped_as_c14n_escapes_them() -> None:
    header = next(iter(sample_responses().values())).header
    odd = "A&B<C>D\r\nE\tF"
    response = Response('5"4&<', header, DccAlert(
        "N999", "", FirmwareVersionMismatch(DEVICE, odd, "0101", "0102")))
    written = respond.canonical_response(response)
    assert written == _canonical(written)
    assert b"A&amp;B&lt;C&gt;D&#xD;\nE\tF" in written
    assert b'schemaVersion="5&quot;4&amp;&lt;"' in written
    read = parse_response(written)
    assert read.schema_version == '5"4&<'
    assert isinstance(read.body, DccAlert)
    assert isinstance(read.body.detail, FirmwareVersionMismatch)
    assert read.body.detail.device_type == odd.strip()


def test_text_xml_cannot_carry_is_refused() -> None:
    response = sample_responses()["mismatch"]
    assert isinstance(response.body, DccAlert)
    detail = response.body.detail
    assert isinstance(detail, FirmwareVersionMismatch)
    broken = dataclasses.replace(response, body=dataclasses.replace(
        response.body, detail=dataclasses.replace(detail, device_type="ES\x01ME")))
    with pytest.raises(RequestBuildError, match="not XML-compatible"):
        respond.canonical_response(broken)


def test_the_element_is_the_canonical_bytes_parsed() -> None:
    response = sample_responses()["n60"]
    element = respond.response_element(response)
    assert etree.tostring(element, method="c14n") == respond.canonical_response(response)
