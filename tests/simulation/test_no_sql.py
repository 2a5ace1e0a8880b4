"""The simulator runs no SQL of its own (issue 16): it reads through the owners' repositories and
changes things through their flows and services, so a table's owner is the one place that knows
how its rows are read and written.

The check reads the simulator's source with `ast`. It fails when the mechanism is removed: putting
the simulator's old read of the in-app messages back into `recoup/simulation/debtors.py`
(`session.execute(select(ContactMessage.id, ...))` instead of `contact_repo.messages_after`)
makes it fail three ways (the models import, `select`, `session.execute`); so does an account
fetched with `session.get(Account, ...)` instead of `ledger_repo.AccountRepository`.
`lint-imports` holds the same line for imports ("The simulator runs no SQL of its own")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIMULATION = Path(__file__).parents[2] / "src" / "recoup" / "simulation"
# Functions that build SQL (called by name: polars' `.select` and a Counter's `.update` are not
# SQL) and methods that run it; the simulator calls none of them.
SQL_BUILDERS = {"select", "insert", "update", "delete", "text"}
SQL_RUNS = {"execute", "scalars", "scalar"}
SESSION_READS = {"get", "query", "merge", "add", "add_all", "flush"}
# From SQLAlchemy the simulator may take only the session types it is handed.
ALLOWED_SQLALCHEMY = {("sqlalchemy.orm", "Session"), ("sqlalchemy.orm", "sessionmaker")}

pytestmark = pytest.mark.pure


def sql_in(source: str) -> list[str]:
    """What in `source` runs SQL of its own, one line each."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "recoup.models" or node.module.startswith("recoup.models."):
                found.append(f"line {node.lineno}: imports {node.module}")
            elif node.module.split(".")[0] == "sqlalchemy":
                found += [
                    f"line {node.lineno}: imports {node.module}.{a.name}"
                    for a in node.names
                    if (node.module, a.name) not in ALLOWED_SQLALCHEMY
                ]
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: imports {a.name}"
                for a in node.names
                if a.name.split(".")[0] == "sqlalchemy" or a.name.startswith("recoup.models")
            ]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if (isinstance(func, ast.Name) and name in SQL_BUILDERS) or (
                isinstance(func, ast.Attribute) and name in SQL_RUNS
            ):
                found.append(f"line {node.lineno}: calls {name}()")
            elif (
                isinstance(func, ast.Attribute)
                and name in SESSION_READS
                and isinstance(func.value, ast.Name)
                and func.value.id == "session"
            ):
                found.append(f"line {node.lineno}: calls session.{name}()")
    return found


def test_no_module_of_the_simulator_runs_sql_of_its_own() -> None:
    modules = sorted(SIMULATION.glob("*.py"))
    assert len(modules) > 5  # the package's parts were found
    offences = {
        path.name: found for path in modules if (found := sql_in(path.read_text(encoding="utf-8")))
    }
    assert offences == {}


def test_the_check_sees_the_reads_the_simulator_used_to_make() -> None:
    old_read = (
        "from sqlalchemy import select\n"
        "from recoup.models import Account, ContactMessage\n"
        "def react(session, seen):\n"
        "    account = session.get(Account, 1)\n"
        "    return session.execute(\n"
        "        select(ContactMessage.id).where(ContactMessage.id > seen)\n"
        "    ).all()\n"
    )
    assert sql_in(old_read) == [
        "line 1: imports sqlalchemy.select",
        "line 2: imports recoup.models",
        "line 4: calls session.get()",
        "line 5: calls execute()",
        "line 6: calls select()",
    ]
