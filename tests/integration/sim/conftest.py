"""Fixtures for simulator integration tests: a generated directory on disk."""
from __future__ import annotations

from pathlib import Path

import pytest

from simulators.generate import generate


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`fwo sim generate` output: 60 entries, 300 devices, seed 1, 512-byte images."""
    out = tmp_path_factory.mktemp("generated")
    generate(out, entries=60, devices=300, seed=1, image_size=512)
    return out
