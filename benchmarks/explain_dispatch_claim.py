"""EXPLAIN (ANALYZE, BUFFERS) of the claim's statements on a copy of bench_dispatch's planned day
(docs/benchmarks.md, "The outbox dispatcher"): the due read (`claim_due`, the single read of every
due row it was and the ordered read per status it is), the joined read of the claimed contacts with
their account, state and customer (`repository.contacts`), and the batch's status update
(`kit.bulk.update_rows`), each in a transaction rolled back, after an ANALYZE.

    python -m benchmarks.explain_dispatch_claim \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_dispatch

Needs the template an earlier `bench_dispatch --reuse` left (`<database>_planned_<accounts>`);
works on `<database>_explain`, a copy of it, dropped at the end.
"""

from __future__ import annotations

import argparse

import psycopg
from sqlalchemy import make_url

from benchmarks.bench_dispatch import copy_database, keyring_path

NOW = "2026-06-01 11:00:00+00"

DUE = f"""
SELECT c.id FROM contact_plans c
WHERE (c.status IN ('planned', 'queued', 'deferred') AND c.scheduled_at <= '{NOW}')
   OR (c.status = 'sending' AND c.lease_until < '{NOW}')
ORDER BY c.scheduled_at LIMIT %(batch)s FOR UPDATE SKIP LOCKED
"""

DUE_PER_STATUS = (
    "WITH "
    + ", ".join(
        f"due_{status} AS (SELECT id, scheduled_at FROM contact_plans WHERE status = '{status}' "
        f"AND {cond} ORDER BY scheduled_at LIMIT %(batch)s FOR UPDATE SKIP LOCKED)"
        for status, cond in (
            ("planned", f"scheduled_at <= '{NOW}'"),
            ("deferred", f"scheduled_at <= '{NOW}'"),
            ("queued", f"scheduled_at <= '{NOW}'"),
            ("sending", f"lease_until < '{NOW}'"),
        )
    )
    + " SELECT id FROM (SELECT * FROM due_planned UNION ALL SELECT * FROM due_deferred"
    " UNION ALL SELECT * FROM due_queued UNION ALL SELECT * FROM due_sending) AS due"
    " ORDER BY scheduled_at LIMIT %(batch)s"
)

JOINED = """
SELECT c.id, c.account_id, c.customer_id, c.status, c.channel, c.template, c.tone, c.treatment,
       c.stage, c.purpose, c.attempts, c.scheduled_at, c.handed_at, c.as_of_date,
       c.overdue_minor, c.outstanding_minor, c.agent, c.language, a.currency, a.product_code,
       a.collector, a.closed_date, d.dpd, d.overdue_minor, d.outstanding_minor, u.jurisdiction,
       u.preferred_language, u.timezones, u.name, u.external_ref
FROM contact_plans c
JOIN accounts a ON a.id = c.account_id
LEFT OUTER JOIN account_delinquency d ON d.account_id = c.account_id
JOIN customers u ON u.id = c.customer_id
WHERE c.id = ANY(%(ids)s::BIGINT[]) ORDER BY c.id
"""

UPDATE = f"""
UPDATE contact_plans AS t SET status = s.v0, attempts = t.attempts + 1,
       lease_until = '{NOW}'::timestamptz + interval '5 minutes', worker = 'explain',
       updated_at = '{NOW}'
FROM unnest(%(ids)s::BIGINT[], %(statuses)s::VARCHAR[]) AS s(k, v0) WHERE t.id = s.k
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench"
    )
    parser.add_argument("--accounts", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    planned, _ = keyring_path(args.database_url, args.accounts)
    url = make_url(args.database_url)
    target = f"{url.database}_explain"
    copy_database(args.database_url, planned, target)
    dsn = url.set(drivername="postgresql", database=target).render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn) as conn:
            conn.execute("ANALYZE")
            conn.commit()
            ids = [
                r[0]
                for r in conn.execute(
                    DUE.replace("FOR UPDATE SKIP LOCKED", ""), {"batch": args.batch}
                )
            ]
            conn.rollback()
            for name, sql, params in (
                (
                    "the due read as it was (every due row read and sorted)",
                    DUE,
                    {"batch": args.batch},
                ),
                ("the due read per status (claim_due)", DUE_PER_STATUS, {"batch": args.batch}),
                ("the joined read (repository.contacts)", JOINED, {"ids": ids}),
                (
                    "the status update (bulk.update_rows)",
                    UPDATE,
                    {"ids": ids, "statuses": ["sending"] * len(ids)},
                ),
            ):
                print(f"== {name}, {len(ids)} contacts")
                for (line,) in conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params):
                    print(line)
                conn.rollback()
    finally:
        admin = make_url(args.database_url).set(database="postgres")
        with psycopg.connect(
            admin.set(drivername="postgresql").render_as_string(hide_password=False),
            autocommit=True,
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


if __name__ == "__main__":
    main()
