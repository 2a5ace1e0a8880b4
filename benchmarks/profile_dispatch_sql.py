"""Wall time per SQL statement in the dispatcher benchmark (docs/benchmarks.md, "The outbox
dispatcher"); extra arguments go to bench_dispatch, after --sink none --accounts 60000 --reuse.

    python -m benchmarks.profile_dispatch_sql --database-url postgresql+psycopg://...
"""

import collections
import re
import sys
import threading
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

stats = collections.defaultdict(lambda: [0, 0.0])
lock = threading.Lock()


@event.listens_for(Engine, "before_cursor_execute")
def _b(conn, cursor, statement, parameters, context, executemany):
    conn.info.setdefault("t0", []).append(time.perf_counter())


@event.listens_for(Engine, "after_cursor_execute")
def _a(conn, cursor, statement, parameters, context, executemany):
    t = time.perf_counter() - conn.info["t0"].pop()
    key = re.sub(r"\s+", " ", statement)[:110]
    with lock:
        s = stats[key]
        s[0] += 1
        s[1] += t


import benchmarks.bench_dispatch as b  # noqa: E402  (after the listeners, before the engine)

sys.argv = ["x", "--sink", "none", "--accounts", "60000", "--reuse", *sys.argv[1:]]
try:
    b.main()
finally:
    tot = sum(v[1] for v in stats.values())
    print(f"SQL total {tot:.2f} s")
    for k, v in sorted(stats.items(), key=lambda kv: -kv[1][1])[:25]:
        print(f"{v[1]:7.3f} s {v[0]:5d}  {k}")
