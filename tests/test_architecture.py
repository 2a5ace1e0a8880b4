"""Our own invariants, checked on the source tree (import layers are checked by import-linter)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "recoup"


def modules(*names: str) -> list[Path]:
    """The modules with these names, and every module of a package with one (`ledger/service/`)."""
    return [
        p
        for p in SRC.rglob("*.py")
        if p.stem in names or set(p.relative_to(SRC).parts[:-1]) & set(names)
    ]


def calls(path: Path, attribute: str) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == attribute
    ]


def test_services_repositories_and_flows_never_commit() -> None:
    """Catches a `session.commit()` added to a service, also inside a service package: one in
    `strategy/service/daily_run.py`'s `run` fails it (it did not before services became packages
    of parts, when only files named `service.py` were read)."""
    offenders = {
        str(p.relative_to(SRC)): lines
        for p in modules(
            "service",
            "repository",
            "flows",
            "importer",
            "customers",
            "accounts",
            "bills",
            "payments",
        )
        if (lines := calls(p, "commit"))
    }
    assert offenders == {}


def test_money_is_never_a_float() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                name = node.target.id
                if name.endswith("_minor") and "float" in ast.unparse(node.annotation):
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if (
                isinstance(node, ast.arg)
                and node.arg.endswith("_minor")
                and node.annotation is not None
            ) and "float" in ast.unparse(node.annotation):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def test_nothing_reads_the_wall_clock_outside_the_clock() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "clock.py" or "cli" in path.parts or "simulation" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        for needle in ("datetime.now(", "dt.datetime.now(", "date.today(", "time.time("):
            if needle in source:
                offenders.append(f"{path.relative_to(SRC)}: {needle}")
    assert offenders == []
