"""`ix_contact_plans_provider_id` holds only the plans handed to a provider (`WHERE provider_id IS
NOT NULL`): the daily run writes every plan with no provider id, and pays no index insert for
it; a provider's report still finds its contact through the index (`by_provider_id`'s equality
implies the predicate)."""

from __future__ import annotations

from sqlalchemy import Connection, select, text

from recoup.models import ContactPlan


def _definition(connection: Connection) -> str:
    if connection.dialect.name == "postgresql":
        sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_contact_plans_provider_id'"
    else:
        sql = "SELECT sql FROM sqlite_master WHERE name = 'ix_contact_plans_provider_id'"
    return str(connection.execute(text(sql)).scalar_one())


def test_the_provider_id_index_leaves_out_the_plans_without_one(connection: Connection) -> None:
    """Catches the migration (or the model) building the index over every plan."""
    assert "provider_id IS NOT NULL" in _definition(connection).replace("(", "").replace(")", "")


def test_a_providers_report_finds_its_contact_through_the_index(connection: Connection) -> None:
    """Catches a predicate the query by provider id does not imply (PostgreSQL's planner would
    then scan the table for every delivery report)."""
    if connection.dialect.name != "postgresql":
        return  # SQLite's planner: the predicate is checked above
    c = ContactPlan
    query = select(c.id).where(c.provider == "twilio", c.provider_id == "SM1")
    sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
    with connection.begin_nested() as nested:
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(connection.execute(text(f"EXPLAIN {sql}")).scalars())
        nested.rollback()
    # The parent's index or its partitions' (`contact_plans_p2026_12_provider_id_idx`).
    assert "Index Cond: ((provider_id)::text = 'SM1'::text)" in plan
    assert "Seq Scan" not in plan
