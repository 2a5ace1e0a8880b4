"""The spool: messages written as files into a directory, one per delivery, like a maildir. It is
the channel of development and of the demo (read what Recoup would have sent), and the local sink
of the crash test and the benchmarks.

It is an honest sink, not a de-duplicating provider: every call of `send` is a delivery. The first
delivery of an idempotency key is `<dir>/<channel>/<key>.json`; a second one of the same key is
kept beside it as `<key>~2.json` (then `~3`, ...) and logged, so a duplicate is seen and counted,
never merged into the first. `lookup` answers whether a key was delivered (reconciliation asks it
before a contact whose outcome is unknown is sent again).

The files hold whole messages (a name, a number, a pay link): they are written with mode 0600 in a
directory of mode 0700, through a hidden temporary file linked into place atomically (never seen
half-written). A temporary file left by a process that was killed is removed when an adapter opens
the directory again.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import threading
from dataclasses import asdict
from pathlib import Path

from recoup.channels.base import Accepted, Outgoing, PermanentError, TransientError
from recoup.kit.logging import get_logger

log = get_logger(__name__)

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


class SpoolAdapter:
    deduplicates = False  # a resend is a second file: at-least-once would show as a duplicate

    def __init__(self, directory: Path, channel: str, *, concurrency: int = 4) -> None:
        self.directory = directory / channel
        self.name = "spool"
        self.channel = channel
        self.concurrency = concurrency
        self.rate_per_second: float | None = None
        self.directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        self.directory.chmod(DIRECTORY_MODE)
        self.removed_temporaries = _remove_orphans(self.directory)

    def send(self, message: Outgoing) -> Accepted:
        key = message.idempotency_key
        if "/" in key or "~" in key or key.startswith("."):
            raise PermanentError("idempotency key is not a file name")
        temp = self.directory / f".{key}.{os.getpid()}.{threading.get_ident()}"
        data = json.dumps(asdict(message), ensure_ascii=False, indent=1).encode()
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            # Linking is atomic and refuses an existing name: the first delivery takes the key's
            # name, each later one the next free `~n`.
            for n in itertools.count(1):
                path = self.directory / (f"{key}.json" if n == 1 else f"{key}~{n}.json")
                try:
                    os.link(temp, path)
                except FileExistsError:
                    continue
                if n > 1:
                    log.warning("spool.duplicate_delivery", channel=self.channel, copy=n)
                break
        except OSError as exc:
            raise TransientError(f"spool not writable: {exc.strerror}") from exc
        finally:
            temp.unlink(missing_ok=True)
        return Accepted(self.name, key)

    def lookup(self, idempotency_key: str) -> Accepted | None:
        """What the spool holds for this key: `Accepted` when it was delivered, None when not."""
        if (self.directory / f"{idempotency_key}.json").exists():
            return Accepted(self.name, idempotency_key)
        return None

    def close(self) -> None:
        pass


def _remove_orphans(directory: Path) -> int:
    """Remove the hidden temporary files of processes no longer running on this host (a worker
    killed while writing): they hold whole messages and nothing would ever link them."""
    removed = 0
    for temp in directory.glob(".*"):
        parts = temp.name.rsplit(".", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid != os.getpid() and _alive(pid):
            continue  # another worker is writing it now
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
