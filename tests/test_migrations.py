"""The migrations build exactly the schema the models describe (tables, columns, indexes), on the
database the suite runs on."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from recoup.models.base import Model


def test_the_migrated_schema_is_the_models_schema(connection: Connection) -> None:
    differences = compare_metadata(MigrationContext.configure(connection), Model.metadata)
    assert differences == []
