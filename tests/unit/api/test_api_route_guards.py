"""Every route of the app is public by name or guarded by a role; the guard holds."""
from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from orchestrator.entrypoints.api.deps import Permission
from orchestrator.service.access import PERMISSIONS, ROLES

# Public on purpose: health for orchestration, the receiver (authenticated by the DCC's XML
# signature), the sign-in form and its post, sign-out, and the redirect to the dashboard.
PUBLIC = {("GET", "/healthz"), ("POST", "/duis/receiver"), ("GET", "/"), ("GET", "/ui/login"),
          ("POST", "/ui/login"), ("POST", "/ui/logout")}
# The OpenAPI pages and the Swagger UI files they load (served from the package, no CDN).
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/docs/static"}
SAMPLES = {"campaign_id": "1", "plan_id": "1", "device_id": "00-11-22-33-44-55-66-77",
           "entry_id": "10001", "name": "someone"}


def routes(api: Any) -> list[Any]:
    """Every effective route of the app, through included routers (FastAPI's own walk)."""
    return list(iter_route_contexts(api.routes))


def permission_of(route: Any) -> list[Permission]:
    """The Permission dependencies anywhere in a route's dependency tree."""
    found, stack = [], list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Permission):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


def guarded(api: Any) -> list[tuple[str, str, str]]:
    """(method, concrete path, permission) of every guarded route."""
    rows = []
    for route in routes(api):
        if route.path in DOCS:
            continue
        for method in sorted(route.methods):
            if (method, route.path) in PUBLIC:
                continue
            [perm] = permission_of(route)
            path = re.sub(r"{(\w+)}", lambda m: SAMPLES[m.group(1)], route.path)
            rows.append((method, path, perm.permission))
    return rows


def test_every_route_is_public_or_has_exactly_one_guard(fake_api) -> None:  # type: ignore[no-untyped-def]
    """No route escapes: each API route is listed public or carries one Permission."""
    for route in routes(fake_api.api):
        if route.path in DOCS:
            continue
        assert hasattr(route, "dependant"), f"{route.path} is not an API route"
        guards = permission_of(route)
        public = {(m, route.path) for m in route.methods} <= PUBLIC
        assert public != bool(guards), f"{route.path}: public={public}, guards={len(guards)}"
        assert all(g.permission in PERMISSIONS for g in guards)
    assert len(guarded(fake_api.api)) >= 40


def test_unauthenticated_calls_get_401(fake_api) -> None:  # type: ignore[no-untyped-def]
    """Without a token every guarded route answers 401 (problem+json, or the sign-in page)."""
    for method, path, _ in guarded(fake_api.api):
        reply = fake_api.client.request(method, path)
        assert reply.status_code == 401, (method, path, reply.text[:200])
        kind = "text/html" if path.startswith("/ui/") else "application/problem+json"
        assert reply.headers["content-type"].startswith(kind), (method, path)


def test_an_unknown_token_gets_401(fake_api) -> None:  # type: ignore[no-untyped-def]
    """A token that was never issued (or was revoked) is refused like no token."""
    reply = fake_api.client.get("/api/campaigns", headers={"Authorization": "Bearer fwo_nope"})
    assert reply.status_code == 401 and "WWW-Authenticate" in reply.headers


def test_under_privileged_calls_get_403(fake_api) -> None:  # type: ignore[no-untyped-def]
    """The role just below the one a route needs gets 403, for every guarded route."""
    checked = 0
    for method, path, permission in guarded(fake_api.api):
        needed = ROLES.index(PERMISSIONS[permission])
        if needed == 0:
            continue
        below = ROLES[needed - 1]
        reply = fake_api.client.request(method, path, headers=fake_api.auth(below))
        assert reply.status_code == 403, (method, path, below, reply.text[:200])
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_what_viewers_read(fake_api, role: str) -> None:  # type: ignore[no-untyped-def]
    """Roles are cumulative: everyone may call /api/me and sees their permissions."""
    body = fake_api.client.get("/api/me", headers=fake_api.auth(role)).json()
    assert body["role"] == role
    assert ("admin" in body["permissions"]) == (role == "admin")
    assert "read" in body["permissions"]


def test_a_refused_mutation_is_recorded_in_the_audit_chain(fake_api) -> None:  # type: ignore[no-untyped-def]
    """A viewer trying to pause is refused (403) and the attempt is in the audit log."""
    reply = fake_api.client.post("/api/campaigns/7/pause", headers=fake_api.auth("viewer"),
                                 json={"reason": "3 a.m. alarm"})
    assert reply.status_code == 403
    last = fake_api.app.store.audit[-1]
    assert (last["actor"], last["outcome"], last["target"]) == (
        "vera", "denied", "/api/campaigns/7/pause")
    assert last["data"]["needs"] == "operate" and last["data"]["request_id"]


def test_the_cookie_is_not_enough_for_api_mutations(fake_api) -> None:  # type: ignore[no-untyped-def]
    """The dashboard cookie authenticates reads; a POST needs the bearer header (CSRF)."""
    client = fake_api.client
    client.cookies.set("fwo_token", fake_api.tokens["admin"])
    try:
        assert client.get("/api/me").status_code == 200
        assert client.post("/api/campaigns/1/pause", json={}).status_code == 401
    finally:
        client.cookies.clear()
