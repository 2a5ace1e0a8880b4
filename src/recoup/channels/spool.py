"""The spool: messages written as files into a directory, one per idempotency key, like a
maildir. It is the channel of development and of the demo (read what Recoup would have sent), and
the local sink of the crash test and the benchmark: a file is linked into place atomically, so a message
resent after a crash with the same key is recognised and accepted once.

Layout: `<dir>/<channel>/<idempotency key>.json` holding the whole `Outgoing` message.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict
from pathlib import Path

from recoup.channels.base import Accepted, Outgoing, PermanentError, TransientError


class SpoolAdapter:
    def __init__(self, directory: Path, channel: str, *, concurrency: int = 4) -> None:
        self.directory = directory / channel
        self.name = "spool"
        self.channel = channel
        self.concurrency = concurrency
        self.rate_per_second: float | None = None
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, message: Outgoing) -> Accepted:
        if "/" in message.idempotency_key or message.idempotency_key.startswith("."):
            raise PermanentError("idempotency key is not a file name")
        path = self.directory / f"{message.idempotency_key}.json"
        temp = self.directory / f".{message.idempotency_key}.{os.getpid()}.{threading.get_ident()}"
        data = json.dumps(asdict(message), ensure_ascii=False, indent=1).encode()
        try:
            with temp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            # Linking is atomic and refuses an existing name: a message killed halfway is never
            # seen half-written, and one sent before a crash is accepted once.
            os.link(temp, path)
        except FileExistsError:
            pass
        except OSError as exc:
            raise TransientError(f"spool not writable: {exc.strerror}") from exc
        finally:
            temp.unlink(missing_ok=True)
        return Accepted(self.name, message.idempotency_key)

    def close(self) -> None:
        pass
