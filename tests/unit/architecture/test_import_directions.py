"""The package dependency directions of STYLE.md hold for every module in the tree."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROJECT = ("duis", "fir_sync", "orchestrator", "simulators")
STDLIB = set(sys.stdlib_module_names) | {"__future__"}

# package prefix -> project packages it may import (module-level or anywhere)
ALLOWED: dict[str, tuple[str, ...]] = {
    "duis": ("duis",),
    "fir_sync": ("fir_sync",),
    "orchestrator.domain": ("orchestrator.domain",),
    "orchestrator.service": ("orchestrator.domain", "orchestrator.service", "orchestrator.errors",
                             "fir_sync", "duis"),
    "simulators": ("simulators", "duis", "fir_sync", "orchestrator.domain"),
    "orchestrator": ("orchestrator", "fir_sync", "duis"),
}
# the only production modules that may reach the simulators, and only inside functions
SIMULATOR_GATEWAYS = {"orchestrator.entrypoints.cli.sim_cmds",
                      "orchestrator.entrypoints.cli.demo_run",
                      "orchestrator.entrypoints.cli.system_cmds",
                      "orchestrator.entrypoints.cli.dry_run_cmds",
                      "orchestrator.adapters.simulated_gateway",
                      "orchestrator.adapters.simulated_twin",
                      "orchestrator.bootstrap"}


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in PROJECT:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found.append((".".join(parts), path))
    return found


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top))
    return found


def rule_for(module: str) -> tuple[str, ...]:
    prefix = max((p for p in ALLOWED if module == p or module.startswith(p + ".")), key=len)
    return ALLOWED[prefix]


def within(name: str, allowed: tuple[str, ...]) -> bool:
    return any(name == a or name.startswith(a + ".") for a in allowed)


@pytest.mark.parametrize("module,path", modules(), ids=[m for m, _ in modules()])
def test_module_imports_only_what_its_layer_may(module: str, path: Path) -> None:
    """Each module imports only the project packages its layer allows."""
    allowed = rule_for(module)
    for name, top_level in imports(path):
        if name.split(".")[0] not in PROJECT:
            continue
        if name.startswith("simulators") and module.startswith("orchestrator"):
            assert module in SIMULATOR_GATEWAYS and not top_level, (
                f"{module} imports {name}: production code reaches simulators only lazily "
                "from the listed gateway modules")
            continue
        assert within(name, allowed), f"{module} imports {name}; allowed: {allowed}"


@pytest.mark.parametrize("module,path", [(m, p) for m, p in modules()
                                         if m.startswith("orchestrator.domain")])
def test_domain_uses_only_the_standard_library(module: str, path: Path) -> None:
    """orchestrator.domain imports nothing outside the standard library and itself."""
    for name, _ in imports(path):
        root = name.split(".")[0]
        assert root in STDLIB or name.startswith("orchestrator.domain"), (
            f"{module} imports {name}")


@pytest.mark.parametrize("package", ["duis", "fir_sync"])
def test_leaf_libraries_use_no_framework(package: str) -> None:
    """duis and fir_sync stay free of SQLAlchemy, Celery, Redis and web frameworks."""
    banned = ("sqlalchemy", "celery", "redis", "fastapi", "alembic", "kombu")
    for module, path in modules():
        if module.split(".")[0] == package:
            for name, _ in imports(path):
                assert name.split(".")[0] not in banned, f"{module} imports {name}"
