"""Fixtures for duis integration tests: the DCC reference material and xmlsec1.

`reference` and `xsd` (the official DUIS schema) come from tests/conftest.py: they skip
when the reference material is absent, and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from duis.testing.pki import Pki


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} is absent on this machine (outside CI this skips)")


@pytest.fixture(scope="session")
def dcc_dir(reference: Path) -> Path:
    """The DCC request templates, sample response and test certificates."""
    return reference / "dcc"


@pytest.fixture(scope="session")
def xmlsec1() -> str:
    """Path of the xmlsec1 binary."""
    found = shutil.which("xmlsec1")
    if found is None:
        _missing("xmlsec1")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def pki() -> Pki:
    """A generated test PKI shared by the session."""
    return Pki.generate()
