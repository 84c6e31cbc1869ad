"""Fixtures for duis integration tests: the shared DCC reference material and xmlsec1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from duis.testing.pki import Pki

PROJECT_ROOT = Path(__file__).resolve().parents[3]
REFERENCE = (PROJECT_ROOT / "../shared/reference").resolve()


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} is absent on this machine (outside CI this skips)")


@pytest.fixture(scope="session")
def reference() -> Path:
    """The shared reference folder (`../shared/reference` next to the project root)."""
    if not (REFERENCE / "duis").is_dir() or not (REFERENCE / "dcc").is_dir():
        _missing(f"reference folder {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def xsd(reference: Path) -> Path:
    """The official DUIS 5.4 schema."""
    return reference / "duis" / "DUIS_Schema_V5.4.xsd"


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
