"""Fixtures for duis unit tests: a throw-away PKI and common identifiers."""

from __future__ import annotations

import pytest

from duis.testing.pki import Pki


@pytest.fixture(scope="session")
def pki() -> Pki:
    """One generated PKI for the whole session (key generation is the slow part)."""
    return Pki.generate()


@pytest.fixture(scope="session")
def other_pki() -> Pki:
    """A second, unrelated PKI for swapped-certificate tests."""
    return Pki.generate()
