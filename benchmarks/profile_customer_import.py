"""Customer import CPU per row, optionally profiled (docs/benchmarks.md, "Import throughput").

python -m benchmarks.profile_customer_import ROWS DATABASE_URL [profile]
"""

import cProfile
import datetime as dt
import pstats
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_import import write_files
from benchmarks.common import fresh_database
from recoup.ingest.columns import Kind
from recoup.ingest.importer import Importer
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_sessionmaker, session_scope

n = int(sys.argv[1])
url = sys.argv[2]
prof = len(sys.argv) > 3
engine = fresh_database(url)
factory = make_sessionmaker(engine)
clock = SettableClock(dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
with tempfile.TemporaryDirectory() as tmp:
    files = write_files(Path(tmp), n)
    p = cProfile.Profile() if prof else None
    cpu = time.process_time()
    t = time.perf_counter()
    if p:
        p.enable()
    with session_scope(factory) as session:
        r = Importer(session, clock=clock, workers=1).import_file(
            files[Kind.customers], kind=Kind.customers
        )
    if p:
        p.disable()
    cpu = time.process_time() - cpu
    t = time.perf_counter() - t
    print(
        f"customers {r.imported} errors {len(r.errors)} wall {t:.2f}s cpu {cpu:.2f}s = {cpu / n * 1e6:.1f} us CPU/row"
    )
    if p:
        pstats.Stats(p).sort_stats("cumulative").print_stats(45)
