"""The crisis and stop rules written from their sources (docs/assistant.md, "Where the crisis and
stop rules come from"): each source's category is caught by a rule alone (`is_crisis`,
`is_stop`, `asks_to_stop`), whatever the model says, and the everyday idioms that look like a
cue are not. The phrases here are the sources' own categories, not messages of the labelled set."""

from __future__ import annotations

import pytest

from recoup.assistant import dataset
from recoup.assistant.entities import normalize
from recoup.assistant.hanzi import to_simplified
from recoup.assistant.understanding import asks_to_stop, is_crisis, is_stop, understand

pytestmark = pytest.mark.pure


def folded(text: str) -> str:
    return to_simplified(normalize(text))


# One phrase per warning sign of the crisis lines (988 Lifeline, Samaritans, WHO, the Beijing
# centre, Taiwan's 1925), in the three languages.
WARNING_SIGNS = [
    "活着没什么意思",  # no reason to live
    "人生沒有意義",
    "藥我都存好了",  # looking for a way: means gathered
    "昨天买了木炭",
    "看不到任何希望",  # hopelessness
    "我真的坚持不下去了",
    "我是家人的负担",  # a burden
    "没有我他们会过得更好",
    "要交代的事都写好了",  # affairs in order
    "帮我照顾好孩子",
    "这是我最后一次回复",  # goodbye
    "我又伤害自己了",  # self-harm
    "他喝醉了又打我",  # violence at home
    "人间不值得",  # the online euphemisms
    "想紫砂",
    "kms",
    "thinking about sewerslide",
    "i don't want to be here anymore",
    "no reason for me to keep living",
    "I've been saving up my pills",
    "I feel so trapped",
    "the pain is unbearable",
    "I'm such a burden to my family",
    "giving away all my things",
    "things will be easier when I'm gone",
    "nobody would miss me",
    "I just want it all to stop",
    "my boyfriend hit me again",
]


@pytest.mark.parametrize("text", WARNING_SIGNS)
def test_every_warning_sign_of_the_sources_is_a_crisis_by_rule(text: str) -> None:
    """Removing `WARNING_SIGNS` from the crisis rule makes this fail (tried: 26 of the 28
    phrases fail; the other two were already caught by older cues)."""
    assert is_crisis(folded(text)), text


IDIOMS = [
    "I'm dying to pay this off",
    "dying for a coffee, will pay later",
    "你们app卡死了",
    "忙到死，遲啲先覆你",
    "这辈子都还不完",  # hardship, not a goodbye
    "还款对我是很大的负担",
    "以后不会再麻烦你们了 已经还清",
    "he hit me up yesterday about the bill",
    "gonna jump on a call with my bank",
    "I want it to stop, you call every day",  # a request to stop, not "I want it all to stop"
]


@pytest.mark.parametrize("text", IDIOMS)
def test_everyday_idioms_are_not_crisis_cues(text: str) -> None:
    """The rule's exceptions ("dying to", "卡死", "忙到死", "hit me up", "jump on"): removing one
    makes its line fail."""
    assert not is_crisis(folded(text)), text


OPT_OUTS = [
    "REVOKE",  # the FCC's list
    "stopall",
    "cancel",
    "回T",  # China's carrier codes
    "回复TD",
    "N",
    "R",
    "0000",
    "取消",
    "请勿打扰",
    "把我的号码删掉",
    "不想再收到这些",
    "please unsubscribe me",
    "take me off your list",
    "do not call this number again",
    "stop harassing me",
    "leave me alone",
    "stop. i paid",
    "不用再提醒我了",
]


@pytest.mark.parametrize("text", OPT_OUTS)
def test_the_sms_rules_opt_out_words_are_a_stop_by_rule(text: str) -> None:
    """Removing the new keywords (revoke, stopall, N, R, 0000, 取消, 回 as politeness) or the new
    phrases makes their lines fail."""
    assert is_stop(text, folded(text)) or asks_to_stop(folded(text)), text


def test_stop_words_inside_other_words_are_not_a_stop() -> None:
    for text in (
        "停车场信号不好",
        "can i cancel the autopay",
        "stopped at the bank and paid",
        "不要收我手续费",
    ):
        assert not is_stop(text, folded(text)), text
        assert not asks_to_stop(folded(text)), text


def test_the_unseen2_set_keeps_its_level() -> None:
    """unseen2 (written before the rules changed, never trained on, no rule tuned on its misses):
    every crisis message caught, stop at the level measured (docs/assistant.md)."""
    rows = dataset.load(source=dataset.UNSEEN2_FILE)
    assert len(rows) >= 150
    assert {r.split for r in rows} == {"unseen2"}
    result = dataset.evaluate(rows, [understand(r.message.text, at=r.message.at) for r in rows])
    assert result.recall_vulnerable == 1.0
    assert result.recall_stop >= 0.95


def test_the_unseen3_set_keeps_its_level() -> None:
    """unseen3 (written from the SMS opt-out keyword lists and the crisis lines' warning signs
    before the third wave changed any rule or training message, never trained on, no rule tuned
    on its misses): the level measured after the wave (docs/assistant.md), less a message."""
    rows = dataset.load(source=dataset.UNSEEN3_FILE)
    assert len(rows) >= 150
    assert {r.split for r in rows} == {"unseen3"}
    assert sum(r.intent == "stop" for r in rows) >= 40
    assert sum(r.intent == "vulnerable" for r in rows) >= 40
    result = dataset.evaluate(rows, [understand(r.message.text, at=r.message.at) for r in rows])
    assert result.recall_stop >= 0.94
    assert result.recall_vulnerable >= 0.93
    assert result.macro_f1 >= 0.92
