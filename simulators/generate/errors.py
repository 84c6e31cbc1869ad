"""Errors raised by the synthetic-data generator (one base class)."""
from __future__ import annotations


class GeneratorError(Exception):
    """Base class of every error the generator raises on purpose."""


class InvalidParameterError(GeneratorError, ValueError):
    """A generation parameter is out of range (for example fewer than one CPL entry)."""


def require(condition: bool, message: str) -> None:
    """Raise InvalidParameterError(message) unless `condition` holds."""
    if not condition:
        raise InvalidParameterError(message)
