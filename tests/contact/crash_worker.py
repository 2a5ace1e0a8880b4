"""A real dispatcher in a process of its own, for the crash test: the outbox of the database in
RECOUP_DATABASE_URL sent into the spool directory, on a clock shifted to CRASH_CLOCK_START (the
planned day) that runs at real speed, so leases age while it works.

    python -m tests.contact.crash_worker
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

from recoup.bootstrap import install_keys
from recoup.channels.spool import SpoolAdapter
from recoup.config import Settings
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.clock import ShiftedClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.worker.dispatcher import Dispatcher


def main() -> None:
    settings = Settings()
    engine = make_engine(settings.database_url)
    install_keys(settings, engine)
    spool = Path(os.environ["CRASH_SPOOL"])
    dispatcher = Dispatcher(
        make_sessionmaker(engine),
        {c: SpoolAdapter(spool, c) for c in ("sms", "push", "email")},
        clock=ShiftedClock(dt.datetime.fromisoformat(os.environ["CRASH_CLOCK_START"])),
        config=DispatchConfig(
            worker=f"crash-{os.getpid()}", batch=100, lease=dt.timedelta(seconds=5)
        ),
    )
    dispatcher.run(stop=threading.Event(), until_idle=True)
    dispatcher.close()


if __name__ == "__main__":
    main()
