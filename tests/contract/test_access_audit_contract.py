"""API users, token hashes and the audit chain behave alike in every store."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from orchestrator.errors import UserExistsError

from .conftest import NOW, UowFactory, aware


def _user(new_uow: UowFactory, name: str, role: str = "viewer", *tokens: str) -> int:
    with new_uow() as uow:
        user_id = uow.access.add_user(name, role, "setup", NOW)
        for token in tokens:
            uow.access.add_token(user_id, token, token[:8], NOW)
        uow.commit()
    return int(user_id)


def test_user_names_are_unique_whatever_their_case(new_uow: UowFactory) -> None:
    """A second `Ada` is refused as `ada` exists; lookups ignore case."""
    user_id = _user(new_uow, "ada", "admin")
    with new_uow() as uow:
        with pytest.raises(UserExistsError):
            uow.access.add_user("Ada", "viewer", "setup", NOW)
        found = uow.access.user("ADA")
    assert found is not None and (found["id"], found["name"], found["role"]) == (
        user_id, "ada", "admin")
    assert aware(found["created_at"]) == NOW and found["disabled"] is False


def test_a_live_token_names_its_user_role_and_token_row(new_uow: UowFactory) -> None:
    """`principal` carries `token_id` (the row `add_token` returned): logs and revocation
    use it."""
    user_id = _user(new_uow, "olga", "operator")
    with new_uow() as uow:
        first = uow.access.add_token(user_id, "h" * 64, "fwo_abcd", NOW)
        second = uow.access.add_token(user_id, "k" * 64, "fwo_efgh", NOW)
        uow.commit()
    with new_uow() as uow:
        assert uow.access.principal("h" * 64) == {"name": "olga", "role": "operator",
                                                  "token_id": first}
        assert uow.access.principal("k" * 64)["token_id"] == second != first
        assert uow.access.principal("x" * 64) is None


def test_revoked_tokens_and_disabled_users_authenticate_no_one(new_uow: UowFactory) -> None:
    """Revocation counts live tokens only; a disabled user's tokens stop working."""
    olga = _user(new_uow, "olga", "operator", "a" * 64, "b" * 64)
    vera = _user(new_uow, "vera", "viewer", "c" * 64)
    with new_uow() as uow:
        assert uow.access.revoke_tokens(olga, NOW) == 2
        assert uow.access.revoke_tokens(olga, NOW) == 0
        uow.access.update_user(vera, disabled=True)
        uow.commit()
    with new_uow() as uow:
        assert [uow.access.principal(t * 64) for t in "abc"] == [None, None, None]


def test_users_list_counts_live_tokens(new_uow: UowFactory) -> None:
    """Each user with how many unrevoked tokens they hold, by name."""
    zed = _user(new_uow, "zed", "viewer", "a" * 64, "b" * 64)
    _user(new_uow, "abe", "approver")
    _user(new_uow, "mia", "operator", "c" * 64)
    with new_uow() as uow:
        before = {u["name"]: u["tokens"] for u in uow.access.users()}
        assert [u["name"] for u in uow.access.users()] == ["abe", "mia", "zed"]
        uow.access.revoke_tokens(zed, NOW)
        uow.commit()
    with new_uow() as uow:
        after = {u["name"]: u["tokens"] for u in uow.access.users()}
    assert before == {"abe": 0, "mia": 1, "zed": 2}
    assert after == {"abe": 0, "mia": 1, "zed": 0}


def test_has_admin_means_an_enabled_admin(new_uow: UowFactory) -> None:
    """Only an enabled admin counts (else the local shell may create the first)."""
    with new_uow() as uow:
        assert not uow.access.has_admin()
    ada = _user(new_uow, "ada", "admin")
    with new_uow() as uow:
        assert uow.access.has_admin()
        uow.access.update_user(ada, disabled=True)
        assert not uow.access.has_admin()


def _row(n: int, target: str = "campaign:1", prev: str = "0" * 64) -> dict[str, Any]:
    return {"id": n, "at": NOW + dt.timedelta(seconds=n), "actor": "ada", "action": "x.y",
            "target": target, "reason": "", "outcome": "ok", "data": {"n": n},
            "prev_hash": prev, "hash": f"{n:064d}"}


def test_audit_head_is_the_newest_row(new_uow: UowFactory) -> None:
    """No head before the first row; then (id, hash) of the last appended."""
    with new_uow() as uow:
        uow.audit.lock()
        assert uow.audit.head() is None
        uow.audit.append(_row(1))
        uow.audit.append(_row(2, prev=f"{1:064d}"))
        assert uow.audit.head() == (2, f"{2:064d}")
        uow.commit()
    with new_uow() as uow:
        uow.audit.lock()
        assert uow.audit.head() == (2, f"{2:064d}")


def test_audit_rows_stream_oldest_first_and_pages_newest_first(new_uow: UowFactory) -> None:
    """`rows` for verification, `page` (optionally one target) for reading."""
    with new_uow() as uow:
        for n in range(1, 6):
            uow.audit.append(_row(n, "campaign:1" if n % 2 else "user:ada"))
        uow.commit()
    with new_uow() as uow:
        rows = list(uow.audit.rows())
        assert [r["id"] for r in rows] == [1, 2, 3, 4, 5]
        assert rows[0]["data"] == {"n": 1} and aware(rows[0]["at"]) == _row(1)["at"]
        assert [r["id"] for r in uow.audit.page(2)] == [5, 4]
        assert [r["id"] for r in uow.audit.page(2, offset=2)] == [3, 2]
        assert [r["id"] for r in uow.audit.page(10, target="user:ada")] == [4, 2]


def test_a_unit_of_work_left_without_commit_changes_nothing(new_uow: UowFactory) -> None:
    """Rollback: users, tokens and audit rows written without commit are gone."""
    with new_uow() as uow:
        user_id = uow.access.add_user("ada", "admin", "setup", NOW)
        uow.access.add_token(user_id, "a" * 64, "fwo_aaaa", NOW)
        uow.audit.append(_row(1))
    with new_uow() as uow:
        assert uow.access.user("ada") is None and uow.access.users() == []
        assert uow.audit.head() is None and list(uow.audit.rows()) == []
