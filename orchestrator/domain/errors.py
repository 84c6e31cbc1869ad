"""Errors the domain raises; the application maps them to `OrchestratorError` subclasses."""
from __future__ import annotations


class DomainError(Exception):
    """Base of every domain rule violation."""


class PolicyError(DomainError):
    """A campaign policy value is malformed or inconsistent."""


class InvalidTransitionError(DomainError):
    """A state change that the state machine does not allow."""


class ApprovalError(DomainError):
    """An approval that breaks the four-eyes rule or comes at the wrong time."""
