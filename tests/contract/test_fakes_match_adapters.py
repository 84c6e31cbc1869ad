"""The fakes offer exactly what the real adapters offer, with the same signatures.

With the behaviour suites beside this, a method added to an adapter (or a port) and not to
its fake, or a parameter renamed on one side, fails here instead of drifting unseen.
"""
from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest
import sqlalchemy as sa

from orchestrator.adapters.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.service import unit_of_work as ports
from tests.fakes import InMemoryDatabase


def _repositories() -> tuple[dict[str, type], dict[str, type]]:
    """The repositories each unit of work holds once entered, by attribute name."""
    engine = sa.create_engine("sqlite://")
    with SqlAlchemyUnitOfWork(engine) as real, InMemoryDatabase().uow() as fake:
        pairs = ({n: type(r) for n, r in vars(real).items() if n.isidentifier()
                  and not n.startswith("_") and n != "engine"},
                 {n: type(r) for n, r in vars(fake).items() if not n.startswith("_")
                  and n != "database"})
    engine.dispose()
    return pairs


REAL, FAKE = _repositories()
REPOSITORIES = tuple(sorted(REAL))


def test_the_in_memory_unit_of_work_holds_every_repository_the_real_one_does() -> None:
    """Same repository attributes (a repository added or split on one side shows here)."""
    assert sorted(FAKE) == sorted(REAL)
    assert {"catalogue", "fleet", "plans", "campaigns", "requests", "access", "audit"} <= set(
        REAL)


def _shape(function: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default)
            for p in inspect.signature(function).parameters.values()]


def _methods(cls: type) -> dict[str, Any]:
    return {n: f for n, f in inspect.getmembers(cls, inspect.isfunction)
            if not n.startswith("_")}


@pytest.mark.parametrize("name", REPOSITORIES)
def test_each_fake_repository_has_every_adapter_method_with_its_signature(name: str) -> None:
    """Same public methods, same parameters (names, kinds, defaults)."""
    real, fake = _methods(REAL[name]), _methods(FAKE[name])
    assert sorted(real) == sorted(fake)
    assert {n: _shape(f) for n, f in fake.items()} == {n: _shape(f) for n, f in real.items()}


def test_the_fakes_implement_every_port_of_the_unit_of_work() -> None:
    """Every repository the `UnitOfWork` port declares (and each of its methods) exists on
    the in-memory unit of work, with the port's parameters."""
    declared = {n: typing.get_type_hints(member.fget)["return"]
                for n, member in vars(ports.UnitOfWork).items() if isinstance(member, property)}
    repositories = {n: p for n, p in declared.items() if n in REPOSITORIES}
    assert set(repositories) == set(declared) >= {"catalogue", "fleet", "plans", "campaigns",
                                                  "requests", "inbound", "access", "audit"}
    for name, port in repositories.items():
        fake = _methods(FAKE[name])
        for method, function in _methods(port).items():
            assert method in fake, f"{FAKE[name].__name__} lacks {method}"
            assert _shape(fake[method]) == _shape(function), f"{name}.{method}"
