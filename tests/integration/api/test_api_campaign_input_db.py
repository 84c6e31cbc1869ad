"""Bad campaign input through the API: problem+json 422 naming the value, never a 500 or a
201; the same rules and the same budget syntax as the CLI (one validation, in the domain)."""
from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

# issue 13 (Why, point 3) and issue 17 (point 5): request fields and a word the detail holds
BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"waves": "abc"}, "'abc'"), ({"waves": "10%,5%"}, "grow"), ({"waves": "150%"}, "150"),
    ({"waves": "0%,100%"}, "above 0"), ({"waves": "nan%"}, "nan"), ({"waves": "inf%"}, "inf"),
    ({"waves": "1e999%"}, "1e999"), ({"window": "25:00-05:00"}, "HH:MM"),
    ({"window": "01:00"}, "HH:MM"), ({"window": ""}, "HH:MM"),
    ({"window": "01:00-01:00"}, "empty"), ({"timezone": "Mars/Olympus"}, "Mars/Olympus"),
    ({"window": "01:00-05:00", "timezone": "Mars/Olympus"}, "Mars/Olympus"),
    ({"budgets": ["11.9=10/60"]}, "11.9"), ({"budgets": ["11.1=5/0"]}, "above 0"),
    ({"budgets": ["11.1=5/nan"]}, "finite"), ({"budgets": ["11.1=5/1e999"]}, "finite"),
    ({"name": "   "}, "name"), ({"name": ""}, "name"),
    ({"selection": ["device_id=00-00-00-00-00-00-00-01"]}, "matches no device"),
    ({"selection": ["regoin=London"]}, "unknown key 'regoin'"),
    ({"selection": ["region=London"]}, "tag:NAME"),
]


def count_campaigns(ops: Any) -> int:
    engine = sa.create_engine(ops.database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("select count(*) from campaigns")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize("fields,needle", BAD_BODIES)
def test_bad_campaign_input_is_a_422_problem(ops: Any, fields: dict[str, Any],
                                             needle: str) -> None:
    """Each bad value: 422 problem+json with a one-line detail naming it; nothing stored."""
    reply = ops.client.post("/api/campaigns", headers=ops.auth("olga"),
                            json={"name": "pilot"} | fields)
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    detail = reply.json()["detail"]
    assert needle in detail and "\n" not in detail
    assert count_campaigns(ops) == 0


def test_a_budget_overrides_only_its_sr_type_and_tags_select(ops: Any) -> None:
    """`11.1=50/60` keeps the other defaults; `tag:region=...` selects by tag (201)."""
    reply = ops.client.post("/api/campaigns", headers=ops.auth("olga"), json={
        "name": "london", "budgets": ["11.1=50/60"], "selection": ["tag:region=London"],
        "window": "01:00-05:00", "timezone": "Europe/London"})
    assert reply.status_code == 201, reply.text
    cid = reply.json()["campaign_id"]
    engine = sa.create_engine(ops.database_url)
    try:
        with engine.connect() as connection:
            policy = connection.execute(sa.text(f"select policy from campaigns where id = {cid}")
                                        ).scalar_one()
    finally:
        engine.dispose()
    stored = policy if isinstance(policy, dict) else json.loads(policy)
    assert {b["sr_type"]: (b["limit"], b["period_s"]) for b in stored["budgets"]} == {
        "11.1": (50, 60.0), "11.4": (100, 3600.0), "11.3": (20_000, 3600.0),
        "11.2": (20_000, 3600.0)}
