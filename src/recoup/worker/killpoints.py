"""Named points in the worker where a chaos test can stop it, and prove it stopped there.

`RECOUP_KILL_POINT=<point>@<n>` makes the worker, the n-th time it reaches `<point>` (n defaults
to 1), write a marker file (`RECOUP_KILL_POINT_FILE`: JSON with the point, the count, the process
and the contact or batch, no personal data) and then park that thread for good. The harness waits
for the marker and sends SIGKILL: the fault lands exactly there, and the marker proves it did.

Points (`POINTS`):
- `claimed`: a batch's claim has committed (its rows `sending`, not yet handed over);
- `handed`: the batch's hand-over has committed, no provider called yet;
- `accepted`: a provider accepted a message and its answer is not recorded (the n-th accepted
  message of the process: with a batch of thousands, the middle of a batch).

Unset, nothing happens. Production refuses the variable (`ConfigurationError`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recoup.kit.errors import ConfigurationError

POINTS = ("claimed", "handed", "accepted")
ENV_POINT = "RECOUP_KILL_POINT"
ENV_FILE = "RECOUP_KILL_POINT_FILE"


@dataclass
class KillPoints:
    point: str | None = None
    at: int = 1
    marker: Path | None = None
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_environment(cls) -> KillPoints:
        spec = os.environ.get(ENV_POINT)
        if not spec:
            return cls()
        if os.environ.get("RECOUP_ENV") == "production":
            raise ConfigurationError(f"{ENV_POINT} is for chaos tests, never in production")
        point, _, n = spec.partition("@")
        if point not in POINTS or (n and not n.isdigit()) or (n and int(n) < 1):
            raise ConfigurationError(
                f"{ENV_POINT}={spec!r}: give <point>[@<n>] with a point among {', '.join(POINTS)}"
            )
        marker = os.environ.get(ENV_FILE)
        if not marker:
            raise ConfigurationError(f"{ENV_POINT} needs {ENV_FILE}, where the marker goes")
        return cls(point, int(n or 1), Path(marker))

    def reached(self, point: str, **detail: Any) -> None:
        if point != self.point:
            return
        with self.lock:
            self.count += 1
            hit = self.count == self.at
        if not hit:
            return
        assert self.marker is not None
        temp = self.marker.with_name(self.marker.name + ".tmp")
        temp.write_text(
            json.dumps({"point": point, "count": self.count, "pid": os.getpid(), **detail})
        )
        os.replace(temp, self.marker)  # the harness sees the whole marker or none
        while True:  # parked: the harness kills the process here
            time.sleep(3600)
