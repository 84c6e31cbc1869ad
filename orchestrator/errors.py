"""The application's error hierarchy, in one place.

Everything the CLI or API reports to a user derives from `OrchestratorError`; library errors
(`fir_sync.errors.FirSyncError`, `duis.errors.DuisError`, SQLAlchemy) are converted at the
boundary where they cross into the application.
"""
from __future__ import annotations


class OrchestratorError(Exception):
    """Base of every error the orchestrator reports to a user."""


class ConfigurationError(OrchestratorError):
    """A setting is missing or malformed."""


class DatabaseError(OrchestratorError):
    """The database could not be reached, migrated or written."""


class CatalogueError(OrchestratorError):
    """A catalogue operation failed."""


class NoCatalogueError(CatalogueError):
    """No catalogue has been synced yet."""


class EntryNotFoundError(CatalogueError):
    """A CPL entry asked for is not in the current catalogue."""


class SyncRefusedError(CatalogueError):
    """A sync was refused (integrity mismatch or problems under --strict); nothing changed."""


class CampaignError(OrchestratorError):
    """A campaign operation is not possible (unknown campaign, wrong state, bad policy)."""


class CampaignInputError(CampaignError):
    """A campaign request is invalid (policy value, name, selection, nothing to upgrade)."""


class CampaignNotFoundError(CampaignError):
    """No such campaign, or the device is not in it."""


class TransientError(OrchestratorError):
    """A failure that passes by itself: the work is retried later, with backoff (the Celery
    tasks' `autoretry_for`). Never raised for what retrying cannot fix."""


class DspUnavailableError(TransientError):
    """The DSP could not be reached (network, HTTP 5xx/429, no DSP configured); retry later."""


class SenderBusyError(TransientError):
    """The sender lock is held by another worker, or its store cannot be reached."""


class PacingUnavailableError(TransientError):
    """The pacing store (Redis) cannot be reached, so no budget can be taken."""


class AnswerRejectedError(OrchestratorError):
    """A DSP answer failed verification (not signed by the DCC, or not an answer to the
    request sent): a security event. The answer is quarantined with this reason and the
    devices it concerned stop; it is never retried as if the DSP were down."""

    def __init__(self, reason: str, answer: bytes):
        super().__init__(reason)
        self.answer = answer


class DspRefusedError(OrchestratorError):
    """The DSP refused a request (HTTP 4xx or an unreadable answer): do not retry it as is."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code


class FleetError(OrchestratorError):
    """A fleet inventory operation failed."""


class FleetImportError(FleetError):
    """An inventory file cannot be imported at all (unreadable, missing columns)."""


class DeviceNotFoundError(FleetError):
    """A device asked for is not in the fleet inventory."""


class SelectionError(FleetError):
    """A `--select key=value` filter is malformed or has an invalid value."""


class PlanningError(OrchestratorError):
    """A plan cannot be made (unknown target entry, bad option)."""


class PlanNotFoundError(PlanningError):
    """A stored plan asked for does not exist."""


class AccessError(OrchestratorError):
    """An access-control operation failed (users, roles, tokens)."""


class AuthenticationError(AccessError):
    """No credentials, or credentials that name no active user."""


class PermissionDeniedError(AccessError):
    """The authenticated user's role does not allow the operation."""


class UnknownUserError(AccessError):
    """A user asked for does not exist."""


class UserExistsError(AccessError):
    """A user with that name already exists."""


class AuditError(OrchestratorError):
    """The audit log could not be written or read."""


class AuditHeadError(OrchestratorError):
    """A saved audit head given to compare against is not a head hash (bad input)."""


class NotFoundError(OrchestratorError):
    """Something asked for by its identifier does not exist (campaign, audit row, ...)."""
