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

from .dcc_tool import DccTool, ToolMissingError, install


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


@pytest.fixture(scope="session")
def dcc_tool() -> DccTool:
    """The DCC Boxed signing tool, installed with npm outside the repository if missing."""
    try:
        return install()
    except ToolMissingError as err:
        _missing(f"the DCC Boxed signing tool ({err})")
        raise


BOXED_KEYS = {  # FWO_KEYS_DIR name: where the DCC's public test material has it
    "supplier_xml.key.pem": "dcc/xml-sign-90B3D51F30010000-ds.key",
    "supplier_xml.cert.pem": "dcc/certs_xml-sign-90B3D51F30010000-ds.pem",
    "supplier_ds.key.pem": "gbcs-rtds/keystore/90b3d51f30010000-ds.key",
    "supplier_ds.cert.pem": "gbcs-rtds/keystore/90b3d51f30010000-ds.pem",
    "dcc_boxed.cert.pem": "dcc/boxed/Z1-accessControlBroker-dSPXmlSign.pem",
}


@pytest.fixture(scope="session")
def boxed_keys(reference: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An FWO_KEYS_DIR holding the DCC Boxed test identities, as docs/duis.md lays it out."""
    keys = tmp_path_factory.mktemp("boxed-keys")
    for name, source in BOXED_KEYS.items():
        if not (reference / source).is_file():
            _missing(f"DCC test material {reference / source}")
        shutil.copyfile(reference / source, keys / name)
    return keys
