"""All SQL lives in repositories (STYLE.md 5, docs/architecture.md): services, flows, endpoints,
pages and commands ask a repository, and never build or run a statement themselves.

The check reads the source of every module under src/recoup with `ast` and counts the SQL it
holds outside a repository module (`recoup.<package>.repository`, or a module of a
`repository/` package):

- a statement built with a SQLAlchemy construct imported from `sqlalchemy` (`select`, `insert`,
  `update`, `delete`, `text`, `union_all`, `exists`, ...), whatever its local name;
- a statement run or a row read or written through a session: `session.execute / scalars /
  scalar / get / get_one / query / add / add_all / merge / delete` (the receiver named
  `session`, `db`, `conn` or `connection`, or an attribute `.session`);
- the frame and bulk helpers of kit (`read_frame`, `insert_frame`, `update_frame`,
  `upsert_frame`, `insert_rows`, `update_rows`, `upsert_rows`).

`kit/` (the plumbing repositories are built on), `models/` and the Alembic revisions are out of
scope. It can fail: adding `session.execute(select(Case))` to any function of
`recoup/cases/flows.py` makes `test_no_sql_outside_repositories` fail with
`recoup.cases.flows holds 2 SQL calls`. No module is excepted.

What it cannot see: ORM attribute changes on loaded rows (`contact.status = ...`, flushed later
by the unit of work; those are writes, and `tests/test_ownership.py` says what it checks of
them), a session reached under another name, or SQL in a helper of another package that a
service calls (the helper is then the one counted, if it is outside a repository).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "recoup"

SESSION_NAMES = {"session", "db", "conn", "connection"}
SESSION_CALLS = {
    "execute",
    "scalars",
    "scalar",
    "get",
    "get_one",
    "query",
    "add",
    "add_all",
    "merge",
    "delete",
}
HELPERS = {
    "read_frame",
    "insert_frame",
    "update_frame",
    "upsert_frame",
    "insert_rows",
    "update_rows",
    "upsert_rows",
}
CONSTRUCTS = {
    "select",
    "insert",
    "update",
    "delete",
    "text",
    "union",
    "union_all",
    "exists",
    "values",
    "table",
    "column",
}


def sql_calls(source: str) -> list[int]:
    """The lines of the SQL calls a module's source holds (see the module docstring)."""
    tree = ast.parse(source)
    constructs = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
        if alias.name in CONSTRUCTS
    }
    lines: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        match func:
            case ast.Name(id=name) if name in constructs:
                lines.append(node.lineno)
            case ast.Name(id=name) if name in HELPERS:
                lines.append(node.lineno)
            case ast.Attribute(attr=attr) if attr in HELPERS:
                lines.append(node.lineno)
            case ast.Attribute(value=ast.Name(id=receiver), attr=attr) if (
                receiver in SESSION_NAMES and attr in SESSION_CALLS
            ):
                lines.append(node.lineno)
            case ast.Attribute(value=ast.Attribute(attr="session"), attr=attr) if (
                attr in SESSION_CALLS
            ):
                lines.append(node.lineno)
    return sorted(lines)


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_repository(module: str) -> bool:
    return "repository" in module.split(".")[2:]


def outside_repositories() -> dict[str, list[int]]:
    """module → lines of its SQL calls, for every module in scope that holds any."""
    found: dict[str, list[int]] = {}
    for path in sorted(SRC.rglob("*.py")):
        module = module_name(path)
        top = module.split(".")[1] if "." in module else ""
        if top in ("kit", "models", "migrations") or is_repository(module):
            continue
        lines = sql_calls(path.read_text(encoding="utf-8"))
        if lines:
            found[module] = lines
    return found


class TestTheDetector:
    def test_it_finds_the_sql_it_claims_to(self) -> None:
        source = (
            "from sqlalchemy import select as sel, update\n"
            "from recoup.kit import frames\n"
            "def f(session, self, rows):\n"
            "    stmt = sel(Case)\n"  # 4: a construct, under another name
            "    session.execute(stmt)\n"  # 5
            "    self.session.get(Case, 1)\n"  # 6
            "    session.add(Case())\n"  # 7
            "    frames.read_frame(session, stmt, {})\n"  # 8: the helper, and its session arg
            "    session.flush()\n"  # not SQL of its own
            "    rows.update({1: 2})\n"  # a dict's update, not sqlalchemy's
            "    pl.select('a')\n"  # polars, not sqlalchemy
            "    update(Case)\n"  # 12
        )
        assert sql_calls(source) == [4, 5, 6, 7, 8, 12]

    def test_repositories_are_where_sql_lives(self) -> None:
        assert is_repository("recoup.contact.repository")
        assert is_repository("recoup.ledger.repository.frames")
        assert not is_repository("recoup.contact.flows")


class TestSqlLivesInRepositories:
    def test_no_sql_outside_repositories(self) -> None:
        """Catches a select, a session call or a frame helper put back in a service, flow,
        endpoint, command or page (e.g. `session.execute(select(Case))` in `cases/flows.py`)."""
        found = {
            f"{module} holds {len(lines)} SQL calls (lines {lines})"
            for module, lines in outside_repositories().items()
        }
        assert found == set(), "SQL outside a repository: move it into the owner's repository"
