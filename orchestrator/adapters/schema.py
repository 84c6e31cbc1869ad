"""The whole database schema: imports every table module so `metadata` is complete.

Migrations and schema checks use this module's `metadata`; each area keeps its tables in its
own module (`catalogue_tables.py`, `fleet_tables.py`, ...), registered on the one `metadata`,
and is imported here.
"""
from __future__ import annotations

from orchestrator.adapters import auth_tables, campaign_tables, catalogue_tables, fleet_tables
from orchestrator.adapters.metadata import metadata

__all__ = ["auth_tables", "campaign_tables", "catalogue_tables", "fleet_tables", "metadata"]
