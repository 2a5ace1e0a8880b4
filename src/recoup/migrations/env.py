"""Alembic environment: the URL comes from the caller's config or from the settings."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection

import recoup.models  # noqa: F401  (registers every table)
from recoup.config import Settings
from recoup.kit.db import make_engine, metadata
from recoup.kit.partitions import is_partition

config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our column types by their import path so migrations stay runnable."""
    if type_ == "type":
        module = type(obj).__module__
        if module.startswith("recoup.kit"):
            autogen_context.imports.add(f"import {module}")
            if type(obj).__name__ == "EncryptedString":
                return f"{module}.EncryptedString({obj.context!r})"
            return f"{module}.{type(obj).__name__}()"
    return False


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Autogenerate compares the partitioned tables, not their monthly partitions."""
    return not (type_ == "table" and name is not None and is_partition(name, set(metadata.tables)))


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite rebuilds tables to alter them
        render_item=render_item,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
