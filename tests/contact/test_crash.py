"""`recoup worker` killed with SIGKILL at chosen points, on SQLite and on PostgreSQL (with
RECOUP_TEST_DATABASE_URL), then restarted until the outbox is drained: every due message is
delivered once per idempotency key, none twice, none lost (the harness: tests/contact/chaos.py).

Each kill is proven to have landed where chosen: the worker parks at its kill point and writes a
marker before the harness kills it, and a worker that ends before reaching its point fails the
test instead of counting as a kill."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contact.chaos import drain, kill_at, prepare, tally

KILLS = (
    "claimed@1",  # after the claim's commit: the batch `sending`, nothing handed over
    "handed@1",  # after the hand-over's commit, before any provider was called
    "accepted@1",  # between the sink's accept and our record
    "accepted@600",  # the same, 600 messages into a batch of a thousand or more
)


# 2,000: the whole day in flight at once; 1,000: the largest batch docs/benchmarks.md measures.
@pytest.mark.parametrize("batch", [2000, 1000])
def test_killed_workers_deliver_every_due_message_once(
    tmp_path: Path, process_database: str, batch: int
) -> None:
    """Catches the removal of the `unknown` branch of `dispatch.claim` (removed once and watched
    failing on SQLite: the contacts handed over or accepted before a kill were sent again,
    duplicates 715 of 1,814), and so of the hand-over's commit that branch reads (`hand_over`).
    The sink's side of the count, a second delivery kept as `<key>~2.json` instead of merged, is
    tests/channels/test_spool.py's."""
    world = prepare(process_database, tmp_path, customers=16000)
    assert len(world.due) > 1500

    kills = [kill_at(world, point, name=f"chaos-{i}", batch=batch) for i, point in enumerate(KILLS)]
    assert [k.reached for k in kills] == [True] * len(KILLS), kills
    assert [k.detail["point"] for k in kills] == [p.split("@")[0] for p in KILLS]
    assert kills[-1].detail["count"] == 600
    assert kills[-1].detail["batch"] >= 1000  # the middle of a batch of a thousand or more
    drain(world, name="chaos-drain", batch=batch)

    figures = tally(world)
    assert figures.duplicates == 0, figures
    assert figures.lost == 0, figures
    assert figures.sent + sum(figures.other.values()) == figures.planned
    assert figures.sent > 0.9 * figures.planned, figures  # due, not expired
    # The kills after the hand-over left contacts `unknown`; the spool, which can say whether it
    # holds a key, settled every one of them before anything was sent again.
    assert figures.unknown > 0
    assert figures.reconciled == figures.unknown
    assert not list(world.spool.glob("*/.*"))  # no killed worker's message left half-written
