"""The whole database schema: imports every table module so `metadata` is complete.

Migrations and schema checks use this module's `metadata`; each area keeps its tables in its
own module (`tables.py` for the catalogue, then one module per area) and is imported here.
"""
from __future__ import annotations

from orchestrator.adapters import auth_tables, campaign_tables, fleet_tables, tables
from orchestrator.adapters.tables import metadata

__all__ = ["auth_tables", "campaign_tables", "fleet_tables", "metadata", "tables"]
