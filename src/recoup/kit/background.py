"""Writes that run behind the caller's computation, on the caller's own connection and in its
transaction: while the caller computes the next rows in Python, a second thread writes the
previous ones (COPY on PostgreSQL), so that the server's work on the writes and the client's on
the rows use two cores instead of taking turns.

One connection, not two: the writes stay in the caller's one transaction, so a run that fails
rolls back everything it wrote, as when it writes inline (a second connection would commit, or
fail, apart). The price is that the caller must not touch the session between `writes_behind`'s
entry and its exit: it computes only, and hands every statement to `submit`.

Guarantees (`Behind`):

- jobs run one at a time, in the order they were submitted, on one thread; the queue is bounded
  (`depth` jobs waiting), so `submit` blocks while the writer is that far behind;
- a job that fails stops the writer: nothing submitted after it runs, the next `submit` raises
  its error, and so does the block's exit, after the thread has ended (the connection idle
  again). The error is the job's own (psycopg's, SQLAlchemy's), as the write inline would raise;
  the caller's transaction is then rolled back by whoever owns it, as after any failed statement;
- the caller failing in the block: the job running is let finish (the connection must be idle
  before the rollback), the jobs still queued are dropped, and the caller's error propagates.

`background=False` runs each job at once in `submit` (the same code path for a run with one part,
where there is nothing to overlap).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from recoup.kit.logging import get_logger

log = get_logger(__name__)

Job = tuple[Callable[..., Any], tuple[Any, ...]]


class Behind:
    """The writer of `writes_behind` (see the module)."""

    def __init__(self, *, depth: int, background: bool) -> None:
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._work, name="writes-behind", daemon=True)
            self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn(*args)` after the jobs submitted before it (raises a failed job's error)."""
        if self._error is not None:
            raise self._error
        if self._thread is None:
            fn(*args)
            return
        self._jobs.put((fn, args))

    def _work(self) -> None:
        # Keeps taking jobs after a failure (running none), so that a `submit` blocked on the full
        # queue is released and sees the error.
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._error is not None or self._cancelled:
                continue
            fn, args = job
            try:
                fn(*args)
            except BaseException as exc:  # re-raised in the caller's thread
                self._error = exc

    def close(self, *, failed: bool) -> None:
        """Wait for the writer to end: every job run (`failed`: the running one only)."""
        if self._thread is None:
            return
        self._cancelled = failed
        self._jobs.put(None)
        self._thread.join()


@contextmanager
def writes_behind(*, depth: int = 2, background: bool = True) -> Iterator[Behind]:
    """A writer for the block (see the module): jobs submitted run on a second thread, in order;
    the block's exit waits for them and raises the first one's error, if any."""
    writer = Behind(depth=depth, background=background)
    try:
        yield writer
    except BaseException as exc:
        writer.close(failed=True)
        if writer._error is not None and writer._error is not exc:
            log.warning("kit.writes_behind_failed_too", error=repr(writer._error))
        raise
    writer.close(failed=False)
    if writer._error is not None:
        raise writer._error
