"""What a demo's database holds, in figures that do not depend on ids or wall-clock times: row
counts per table and the outcomes (payments, arrangements, contacts, conversations, cases, buckets,
decisions, tasks, opt-outs, the models' metrics), so two runs of one seed can be compared.

    .venv/bin/python -m benchmarks.demo_digest recoup.db > before.json
    .venv/bin/python -m benchmarks.demo_digest other/recoup.db --compare before.json

`--compare` prints each figure that differs (nothing printed and exit 0: the same outcomes).
Runs on two different days simulate different dates, and their figures differ for that alone.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

# An action or a reason naming a row ("case:101", "promise:1019") is counted by its kind.
KIND = "case when instr({c}, ':') > 0 then substr({c}, 1, instr({c}, ':') - 1) else {c} end"
QUERIES = {
    "payments": "select currency, count(*), sum(amount_minor) from payments group by 1 order by 1",
    "allocations": "select count(*), sum(amount_minor) from allocations",
    "arrangements": "select kind, status, made_by, channel, count(*), sum(amount_minor) "
    "from arrangements group by 1, 2, 3, 4 order by 1, 2, 3, 4",
    "contact_plans": "select channel, status, purpose, count(*) from contact_plans "
    "group by 1, 2, 3 order by 1, 2, 3",
    "contact_plans_by_day": "select as_of_date, count(*) from contact_plans group by 1 order by 1",
    "contact_events": "select status, count(*) from contact_events group by 1 order by 1",
    "conversations": "select channel, state, count(*) from conversations group by 1, 2 order by 1, 2",
    "turns": f"select direction, intent, {KIND.format(c='action')}, count(*) "
    "from conversation_turns group by 1, 2, 3 order by 1, 2, 3",
    "cases": "select kind, reason, status, opened_by, count(*) from cases "
    "group by 1, 2, 3, 4 order by 1, 2, 3, 4",
    "delinquency": "select bucket, count(*), sum(dpd), sum(overdue_minor) "
    "from account_delinquency group by 1 order by 1",
    "decisions": "select as_of_date, decision, count(*) from strategy_decisions "
    "group by 1, 2 order by 1, 2",
    "tasks": "select queue, status, source, count(*) from agent_tasks group by 1, 2, 3 order by 1, 2, 3",
    "opt_outs": "select channel, source, count(*) from opt_outs group by 1, 2 order by 1, 2",
    "audit_actions": "select action, count(*) from audit_events group by 1 order by 1",
    "risk_models": "select kind, version, metrics from risk_models order by 1, 2",
}


def digest(database: Path) -> dict[str, Any]:
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    out: dict[str, Any] = {}
    tables = [
        r[0]
        for r in db.execute(
            "select name from sqlite_master where type = 'table' "
            "and name not like 'sqlite_%' order by name"
        )
    ]
    for table in tables:
        out[f"rows {table}"] = db.execute(f'select count(*) from "{table}"').fetchone()[0]
    for name, query in QUERIES.items():
        try:
            out[name] = [list(r) for r in db.execute(query)]
        except sqlite3.Error as exc:  # a column this version of the schema does not have
            out[name] = f"error: {exc}"
    return out


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [
        f"{key}: {before.get(key)!r} -> {after.get(key)!r}"
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database", type=Path)
    parser.add_argument("--compare", type=Path, help="an earlier digest (JSON) to compare with")
    args = parser.parse_args()
    now = digest(args.database)
    if args.compare is None:
        print(json.dumps(now, indent=1, ensure_ascii=False, default=str))
        return
    before = json.loads(args.compare.read_text(encoding="utf-8"))
    changed = differences(before, json.loads(json.dumps(now, default=str)))
    for line in changed:
        print(line[:2000])
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()
