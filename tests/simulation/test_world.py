"""World files: what a mistake in one says, and that a file says only what it changes."""

from __future__ import annotations

import pytest

from recoup.simulation.behaviour import pick
from recoup.simulation.world import World, WorldError, parse_world

pytestmark = pytest.mark.pure


def test_an_empty_file_is_the_calibrated_defaults() -> None:
    assert parse_world("", source="w.yaml") == World()


def test_a_file_changes_only_what_it_says() -> None:
    world = parse_world("repayment:\n  cure_30_by_product: {bnpl: {M1: 0.8}}\n", source="w.yaml")
    assert world.repayment.cure("bnpl", "M1") == 0.8
    assert world.repayment.cure("bnpl", "M2") == world.repayment.cure_30["M2"]
    assert world.responses == World().responses


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "repayment: {cure_30_by_product: {bnpl: {M1: 1.2}}}",
            "repayment.cure_30_by_product.bnpl.M1",
        ),
        ("responses: {promise_keep: {M3: -0.1}}", "responses.promise_keep.M3"),
        ("repayment: {cure_30: {M2: 1}}", "repayment.cure_30.M2"),
        ("portfolio: {acounts: 5}", "portfolio.acounts"),
    ],
)
def test_a_wrong_value_names_its_path(text: str, where: str) -> None:
    with pytest.raises(WorldError, match=where.replace(".", r"\.")) as refused:
        parse_world(text, source="w.yaml")
    assert str(refused.value).startswith("w.yaml: ")


def test_broken_yaml_names_the_line() -> None:
    with pytest.raises(WorldError, match=r"w\.yaml:2:\d+: not valid YAML"):
        parse_world("portfolio:\n  accounts: {1: 2: 3}\n", source="w.yaml")


def test_unanswered_calls_end_in_call_results_that_add_up() -> None:
    with pytest.raises(WorldError, match="hung_up"):
        parse_world("responses: {calls: {unanswered: {hung_up: 1.0}}}", source="w.yaml")
    with pytest.raises(WorldError, match="add up to 1"):
        parse_world("responses: {calls: {unanswered: {busy: 0.5}}}", source="w.yaml")


def test_a_draw_falls_on_the_outcome_whose_share_it_lands_in() -> None:
    shares = {"no_answer": 0.5, "voicemail": 0.3, "busy": 0.2}
    picked = [pick(shares, u) for u in (0.0, 0.49, 0.5, 0.79, 0.8, 0.9999999, 1.0)]
    assert picked == ["no_answer", "no_answer", "voicemail", "voicemail", "busy", "busy", "busy"]
