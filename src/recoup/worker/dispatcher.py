"""The outbox worker: claims due contacts in batches and sends them through the channel adapters.

Each batch is three transactions (claim, hand over, send: see `recoup.contact.dispatch`, which
also says what a crash costs on each channel). Sends run on one thread pool per adapter, as wide
as the adapter's `concurrency`, paced by its `rate_per_second` for all workers together (a token
bucket per provider in the database, `provider_pacing`: see `_Pacer`); a provider that answers
"slow down" (a `retry_after` on a transient error) pauses that adapter, not the others. Contacts left
`unknown` by a crashed worker are reconciled (`reconcile`) whenever nothing is due, on the
channels whose adapter can look a message up. Between batches the worker
also signs an audit checkpoint when the ledger's tail is due one (`audit.service.checkpoint_due`).
Several workers may run against PostgreSQL at once; on SQLite run one. Chaos tests stop a worker
at named points (`recoup.worker.killpoints`).
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

import structlog
from sqlalchemy.orm import Session, sessionmaker

from recoup.channels import Accepted, Adapter, ChannelError, Lookup, TransientError
from recoup.compliance import Guard, deployment_guard
from recoup.config import get_settings
from recoup.contact import dispatch
from recoup.contact.dispatch import DispatchConfig, Prepared
from recoup.kit.clock import Clock
from recoup.worker.killpoints import KillPoints

log = structlog.get_logger(__name__)

DELIVERIES = 2  # batches being sent at once by one worker on PostgreSQL (see `Dispatcher.run`)


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


class _Pacer:
    """A provider's pace as this process keeps it. With a `rate`, the slots come from the
    provider's bucket in the database (`reserve`: one reservation per batch, in the hand-over's
    transaction), which every worker shares, so the rate holds for all of them together; each
    send waits for its slot. A provider's "slow down" (`pause`) stops this process's sends at
    once and, with a rate, is passed to the shared bucket at the next reservation, so the other
    workers wait too."""

    def __init__(self, provider: str, rate: float | None, burst: int = 1) -> None:
        self.provider = provider
        self.interval = 1.0 / rate if rate else 0.0
        self.burst = max(1, burst)
        self.paused_until = 0.0
        self.lock = threading.Lock()

    @property
    def shared(self) -> bool:
        return self.interval > 0

    def reserve(self, session: Session, count: int) -> deque[float]:
        """`count` slots (this process's monotonic clock) reserved on the shared bucket."""
        with self.lock:
            pause = max(0.0, self.paused_until - time.monotonic())
        first, now = dispatch.reserve_sends(
            session, self.provider, count, interval=self.interval, burst=self.burst, pause=pause
        )
        base = time.monotonic() + (first - now)
        return deque(base + i * self.interval for i in range(count))

    def wait(self, slot: float | None = None) -> None:
        with self.lock:
            at = max(slot or 0.0, self.paused_until)
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def pause(self, seconds: float) -> None:
        with self.lock:
            self.paused_until = max(self.paused_until, time.monotonic() + seconds)


class Dispatcher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        adapters: Mapping[str, Adapter],
        *,
        clock: Clock,
        config: DispatchConfig,
        guard: Guard | None = None,
        rng: random.Random | None = None,
        kill_points: KillPoints | None = None,
        audit_tail: Callable[[Session], object] | None = None,
    ) -> None:
        self.sessions = sessions
        self.kill = kill_points or KillPoints.from_environment()
        # Called in a transaction of its own between batches (the audit ledger's tail checkpoint).
        self.audit_tail = audit_tail
        self.adapters = dict(adapters)
        self.clock = clock
        self.config = config
        # The deployment's guard (the packs under the house policy), read now so a bad house
        # file stops the worker at start, and looked up again each batch (a stat; the file is
        # parsed again only when it changed) so an edited policy applies from the next batch.
        # A guard given (the simulator's, a test's) is kept as it is.
        self.house_file = None if guard is not None else get_settings().compliance_house_file
        self.guard = guard or deployment_guard(self.house_file)
        self.rng = rng or random.Random()  # jitter, not secrets
        self.pools = {
            ch: ThreadPoolExecutor(max(1, a.concurrency), thread_name_prefix=f"send-{a.name}")
            for ch, a in self.adapters.items()
        }
        self.pacers = {
            ch: _Pacer(f"{ch}:{a.name}", a.rate_per_second, getattr(a, "burst", 1))
            for ch, a in self.adapters.items()
        }

    def run_once(self) -> Counter[str]:
        """One batch: claim and re-check, then send and record. Returns the outcomes by status."""
        claimed = self._claim()
        return claimed.outcomes + self._deliver(claimed.ready)

    def _claim(self) -> dispatch.Claimed:
        if self.house_file is not None:
            self.guard = deployment_guard(self.house_file)
        with self.sessions.begin() as session:
            claimed = dispatch.claim(
                session,
                now=self.clock.now(),
                config=self.config,
                guard=self.guard,
                channels=list(self.adapters),
            )
        if claimed.ready:
            self.kill.reached("claimed", contacts=len(claimed.ready))
        return claimed

    def reconcile(self) -> Counter[str]:
        """Ask the providers that can say (an adapter with `lookup`) about contacts left `unknown`
        by a crash: `sent` when they have the message, `queued` (sent again) when they say not."""
        lookups = {ch: a for ch, a in self.adapters.items() if isinstance(a, Lookup)}
        outcomes: Counter[str] = Counter()
        if not lookups:
            return outcomes
        while True:
            with self.sessions.begin() as session:
                rows = dispatch.unknown(session, list(lookups), limit=self.config.batch)
                answers: dict[int, Accepted | None] = {}
                for contact_id, channel in rows:
                    try:
                        answers[contact_id] = lookups[channel].lookup(
                            f"recoup-contact-{contact_id}"
                        )
                    except ChannelError as exc:  # the provider cannot say now: ask again later
                        log.warning(
                            "dispatch.lookup_failed", contact_id=contact_id, reason=exc.reason
                        )
                done = dispatch.reconciled(
                    session, answers, now=self.clock.now(), config=self.config
                )
            outcomes.update(done)
            if len(rows) < self.config.batch or not answers:
                return outcomes

    def checkpoint_audit(self) -> None:
        if self.audit_tail is not None:
            with self.sessions.begin() as session:
                self.audit_tail(session)

    def _deliver(self, claimed: list[Prepared]) -> Counter[str]:
        outcomes: Counter[str] = Counter()
        if not claimed:
            return outcomes
        with self.sessions.begin() as session:
            dispatch.hand_over(
                session,
                [p.contact_id for p in claimed],
                worker=self.config.worker,
                now=self.clock.now(),
            )
            counts = Counter(p.message.channel for p in claimed)
            slots = {
                ch: self.pacers[ch].reserve(session, n)
                for ch, n in sorted(counts.items())
                if self.pacers[ch].shared
            }
        self.kill.reached("handed", contacts=len(claimed))
        with self.sessions.begin() as session:
            held = set(
                dispatch.lock_sending(session, [p.contact_id for p in claimed], self.config.worker)
            )
            ready = [p for p in claimed if p.contact_id in held]
            outcomes["cancelled_in_flight"] = len(claimed) - len(ready)
            results = self._send(ready, slots)
            outcomes.update(
                dispatch.record(
                    session,
                    results,
                    {p.contact_id: p.attempts for p in ready},
                    now=self.clock.now(),
                    config=self.config,
                    rng=self.rng,
                )
            )
        return +outcomes

    def _send(
        self, ready: list[Prepared], slots: Mapping[str, deque[float]]
    ) -> dict[int, Accepted | ChannelError]:
        """Each message to its channel's adapter, at its slot when the channel is paced. A
        channel's messages wait in one queue, in order; as many of its pool's threads as its
        `concurrency` take the next one as soon as they are free (one task per thread, not one per
        message: a future and a thread's wake-up per message cost more than a provider that
        answers at once). An adapter that answers at once (`inline`: no network call to wait for)
        is called on this thread, after the pools have their work."""
        queues: dict[str, deque[tuple[Prepared, float | None]]] = {}
        for p in ready:
            channel = p.message.channel
            slot = slots[channel].popleft() if channel in slots else None
            queues.setdefault(channel, deque()).append((p, slot))
        results: dict[int, Accepted | ChannelError] = {}
        tasks: list[Future[None]] = []
        inline: list[str] = []
        for channel, queue in queues.items():
            adapter = self.adapters[channel]
            if getattr(adapter, "inline", False):
                inline.append(channel)
                continue
            for _ in range(min(max(1, adapter.concurrency), len(queue))):
                tasks.append(
                    self.pools[channel].submit(self._drain, channel, queue, results, len(ready))
                )
        for channel in inline:
            self._drain(channel, queues[channel], results, len(ready))
        for task in tasks:
            task.result()
        return {p.contact_id: results[p.contact_id] for p in ready}

    def _drain(
        self,
        channel: str,
        queue: deque[tuple[Prepared, float | None]],
        results: dict[int, Accepted | ChannelError],
        batch: int,
    ) -> None:
        """Send the channel's queued messages until the queue is empty (`popleft` is atomic, so
        several threads share one queue and each message is taken once)."""
        adapter, pacer = self.adapters[channel], self.pacers[channel]
        while True:
            try:
                p, slot = queue.popleft()
            except IndexError:
                return
            try:
                results[p.contact_id] = self._call(adapter, pacer, slot, p, batch)
            except ChannelError as exc:
                results[p.contact_id] = exc
            except Exception as exc:  # an adapter bug must not lose the batch's bookkeeping
                log.exception("dispatch.adapter_crashed", contact_id=p.contact_id)
                results[p.contact_id] = TransientError(f"adapter error: {type(exc).__name__}")

    def _call(
        self, adapter: Adapter, pacer: _Pacer, slot: float | None, p: Prepared, batch: int
    ) -> Accepted:
        pacer.wait(slot)
        try:
            accepted = adapter.send(p.message)
        except ChannelError as exc:
            if exc.retry_after:
                pacer.pause(exc.retry_after)
            raise
        self.kill.reached(
            "accepted", contact_id=p.contact_id, channel=p.message.channel, batch=batch
        )
        return accepted

    def run(
        self,
        *,
        stop: threading.Event,
        idle_seconds: float = 1.0,
        until_idle: bool = False,
        on_batch: Callable[[Counter[str]], None] | None = None,
    ) -> Counter[str]:
        """Batches until `stop` is set (or, with `until_idle`, until nothing is due).

        On PostgreSQL the batches are pipelined: the next one is claimed and checked (CPU) while
        earlier ones are sent (waiting on providers), up to `DELIVERIES` of them at once so that
        the adapters' pools are not left idle while a batch waits for its slowest send or records
        its results. Their rows are `sending` under this worker's lease and locked by their send
        step, so no claim can take them. SQLite has one writer: there the claim would only wait
        for the send step's write lock, so they simply alternate."""
        total: Counter[str] = Counter()
        in_flight: deque[Future[Counter[str]]] = deque()
        with self.sessions() as session:
            pipelined = self.config.pipeline and session.get_bind().dialect.name == "postgresql"
        with ThreadPoolExecutor(DELIVERIES, thread_name_prefix="deliver") as deliverer:
            while not stop.is_set():
                self.checkpoint_audit()
                claimed = self._claim()
                outcomes = claimed.outcomes
                if not claimed.ready and not claimed.outcomes:  # nothing due: settle unknowns
                    outcomes = outcomes + self.reconcile()
                # Collect what has finished; wait when the pipeline is full, and for all of it
                # when nothing more was due.
                while in_flight and (
                    len(in_flight) >= DELIVERIES or in_flight[0].done() or not claimed.ready
                ):
                    outcomes = outcomes + in_flight.popleft().result()
                if claimed.ready and pipelined:
                    in_flight.append(deliverer.submit(self._deliver, claimed.ready))
                elif claimed.ready:
                    outcomes = outcomes + self._deliver(claimed.ready)
                total.update(outcomes)
                if on_batch is not None and outcomes:
                    on_batch(outcomes)
                if not outcomes and not in_flight:
                    if until_idle:
                        break
                    stop.wait(idle_seconds)
            while in_flight:
                outcomes = in_flight.popleft().result()
                total.update(outcomes)
                if on_batch is not None and outcomes:
                    on_batch(outcomes)
        return total

    def close(self) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=True)
        for adapter in self.adapters.values():
            adapter.close()
