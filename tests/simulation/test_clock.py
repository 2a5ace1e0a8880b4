import datetime as dt
import time
from pathlib import Path

import pytest

from recoup.simulation.clock import CALL_SLOTS, slots, timed
from recoup.strategy.policy import parse_policy

LEARNING = Path(__file__).parents[2] / "src/recoup/strategy/policies/cn-wallet-learning.yaml"
EARLY_ARM = "        - {treatment: early_sms}\n"
MORNING_ARM = '        - {treatment: early_sms, id: early_sms_morning, window: {from: "08:15", to: "09:30"}}\n'


class TestSlots:
    def test_a_learning_arms_window_opens_a_dispatcher_slot(self) -> None:
        # Without the arms' windows in `slots`, an arm's contact planned at 08:15 would wait for
        # the next slot (10:00, the agents') and reach the debtor at another hour: a world whose
        # debtors answer by the hour could never reward the arm. Fails when `slots` reads only
        # the treatments' windows (tried).
        text = LEARNING.read_text(encoding="utf-8")
        assert text.count(EARLY_ARM) == 1
        policy = parse_policy(text.replace(EARLY_ARM, EARLY_ARM + MORNING_ARM), source="t")
        assert dt.time(8, 15) in slots(policy)

    def test_the_ladders_windows_and_the_agents_slots_stay(self) -> None:
        policy = parse_policy(LEARNING.read_text(encoding="utf-8"), source="t")
        found = slots(policy)
        assert set(CALL_SLOTS) <= set(found)
        assert {dt.time(12), dt.time(18, 30), dt.time(10)} <= set(found)
        assert dt.time(8, 15) not in found
        assert found == sorted(found)


@pytest.mark.pure
def test_a_phase_adds_its_wall_time_and_given_cpu_its_cpu_time() -> None:
    """Catches `timed` not adding up across blocks or counting the CPU as the wall time: a block
    that sleeps adds wall time and next to no CPU; one that computes adds both."""
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    with timed(wall, "waiting", cpu):
        time.sleep(0.2)
    with timed(wall, "waiting", cpu):
        time.sleep(0.2)
    assert wall["waiting"] >= 0.4
    assert cpu["waiting"] < wall["waiting"] / 2
    with timed(wall, "working", cpu):
        sum(i * i for i in range(300_000))
    assert cpu["working"] > 0
    with timed(wall, "alone"):
        pass
    assert "alone" in wall
    assert "alone" not in cpu
