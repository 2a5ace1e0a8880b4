"""The crisis and stop rules written from their sources (docs/assistant.md, "Where the crisis and
stop rules come from"): each source's category is caught by a rule alone (`is_crisis`,
`is_stop`, `asks_to_stop`), whatever the model says, and the everyday idioms that look like a
cue are not. The phrases here are the sources' own categories, not messages of the labelled set."""

from __future__ import annotations

import pytest

from recoup.assistant import dataset
from recoup.assistant.entities import normalize
from recoup.assistant.hanzi import to_simplified
from recoup.assistant.understanding import INTENTS, asks_to_stop, is_crisis, is_stop, understand

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
    # the eighth wave, from unseen6 (read once it was to be trained on): Cantonese "furious" and
    # "annoyed to death", an itemised breakdown
    "嬲死，打極都冇人聽",
    "加班加到煩到死",
    "激死我 條link又打唔開",
    "could I get a breakdown of the fees",
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


# The fourth wave's families (docs/assistant.md, "Where the crisis and stop rules come from"):
# phrases written for the families, none of them a message of the labelled set or of unseen2-4.
CRISIS_FAMILIES = [
    "我刚吞了一整瓶艾司唑仑",  # an overdose: a sedative, any ingestion verb
    "喝了敌敌畏",  # a pesticide
    "吃了几十片止痛片",  # painkillers in a quantity no one takes for a headache
    "啱啱食咗成排必理痛",
    "swallowed a whole box of ibuprofen",
    "I took all of my ambien",
    "drank some antifreeze",
    "I took 40 aspirin",
    "后事都安排好了",  # affairs in order
    "遗嘱立好了",
    "支付宝密码留给我老婆了",
    "把儿子托付给我姐了",
    "给爸妈写了一封信",
    "my affairs are in order now",  # (the family's wording, inverted)
    "I drew up a will last night",
    "I found a home for my cat",
    "跟你们道别了",  # farewells
    "goodbye world",
    "thanks for everything, really",
    "我在计划怎么了结",  # a plan, the means
    "I have the means now",
    "觉得自己好多余",  # worthlessness, hopelessness
    "I feel completely worthless",
    "nothing to look forward to now",
    "用玻璃割手",  # self-harm
    "burning myself again",
    "我前度日日打我",  # danger from others
    "my mum beats me when she is angry",
    "he threatened to kill me",
    "someone is stalking me",
    "每晚都喝醉",  # 988: drinking to cope
    "不想见任何人",  # withdrawing
    "想同归于尽",  # rage, revenge
    "I wish I'd never been born",
    "活着有什么用",
]
# Lookalikes of the families: ordinary words that hold a drug, a device that "dies", a plan to pay.
FAMILY_LOOKALIKES = [
    "吃了两片布洛芬，头不疼了",
    "刚从药房拿了感冒药",
    "手机死机了",
    "我死党帮我还",
    "打游戏死了三次",
    "my laptop is dead",
    "my phone is dying",
    "the plant in my kitchen died",
    "I have a plan to pay this off",
    "I took the day off to sort this out",
    "thanks, will pay on Friday",
]


@pytest.mark.parametrize("text", CRISIS_FAMILIES)
def test_every_family_of_warning_signs_is_a_crisis_by_rule(text: str) -> None:
    """Removing `CRISIS_FRAMES` from the crisis rule makes 30 of these 35 fail (tried; older
    cues catch the other five)."""
    assert is_crisis(folded(text)), text


@pytest.mark.parametrize("text", FAMILY_LOOKALIKES)
def test_the_families_lookalikes_are_not_a_crisis(text: str) -> None:
    """Removing `EVERYDAY` (a device, a game or a plant that dies) makes "打游戏死了三次" and "my
    phone is dying" fail (tried)."""
    assert not is_crisis(folded(text)), text


# The seventh wave's signs (`LATER_SIGNS`: WHO's media resource, the 12356 hotline, the Samaritan
# Befrienders Hong Kong, the Trevor Project, Lifeline Australia): phrases written for the tests,
# none of them a message of the labelled set or of unseen2-5.
LATER_SIGN_PHRASES = [
    "不晓得还能坚持多久",  # not knowing how long one can hold on
    "唔知仲捱得幾日",
    "how much longer I can keep going, no idea",
    "有没有不痛的死法",  # researching the means
    "looking up painless methods",
    "one more search on ways to end my life",
    "車房入面開住引擎",  # a car's exhaust in a closed garage
    "the exhaust fumes will do it",
    "一氧化碳中毒是不是很快",
    "去懸崖那邊坐坐",  # a cliff, the sea, a window
    "想往海里一直走进去",
    "成日想由窗口跳出去",
    "我唔配做人",  # not deserving to live
    "I don't deserve to be here",
    "I just want to stop existing",
    "钱就带进棺材吧",  # the debt ending with the person
    "this debt dies with me",
    "想通了，现在好平静",  # a sudden calm after deciding
    "at peace now that I've decided",
    "没人会记得我",  # nobody would miss me
    "nobody is going to remember me",
    "I just want to rest forever",
    "如果明天我不在了，帮我跟妈说声对不起",
    "I could just disappear from this world",
    "drinking till I black out again",  # drinking more
    "每晚都要飲到斷片",
]
# Lookalikes of the seventh wave's signs: a battery that holds on, a car parked in a garage, being
# out of the office, a painless endoscopy, dancing seen from a window, a dinner with drinks.
LATER_SIGN_LOOKALIKES = [
    "这个手机电池能撑多久",
    "车停在车库了，等下转账",
    "如果明天我不在公司，请打我手机",
    "无痛胃镜要多少钱",
    "窗外在跳广场舞，好吵",
    "昨晚同事聚餐喝到醉",
    "I left the engine running while I paid",
    "at peace with the payment plan now",
    "rest in peace grandpa",
    "we drank till we blacked out at the wedding lol",
]


@pytest.mark.parametrize("text", LATER_SIGN_PHRASES)
def test_every_later_sign_is_a_crisis_by_rule(text: str) -> None:
    """Removing `LATER_SIGNS` from the crisis rule makes 23 of these 26 fail (tried; older cues
    catch the other three)."""
    assert is_crisis(folded(text)), text


@pytest.mark.parametrize("text", LATER_SIGN_LOOKALIKES)
def test_the_later_signs_lookalikes_are_not_a_crisis(text: str) -> None:
    assert not is_crisis(folded(text)), text


# The eighth wave's family (the last three of `LATER_SIGNS`): care after an attempt, written
# after reading the test split's one crisis miss; phrases written for the tests, none of them a
# message of any set.
AFTER_AN_ATTEMPT = [
    "they let me out of the psych unit yesterday",
    "was on a 72 hour hold last week",
    "I got sectioned in october, still not working",
    "since my attempt in the spring I can't face these letters",
    "I survived an attempt last month",
    "spent two weeks on a mental health ward",
    "上个月刚从精神病院出来",
    "剛從精神衛生中心出院，還沒上班",
    "前幾日入咗青山，而家先出嚟",
    "上周被送去医院洗胃了",
    "在心理科住院了一个月",
]
# Lookalikes: an attempt to pay, a payment attempt, a card's attempts, a car wash, a psychology
# degree.
AFTER_AN_ATTEMPT_LOOKALIKES = [
    "after an attempt to pay by card it failed",
    "my attempt at paying bounced",
    "the payment attempt was declined",
    "third attempt to reach your hotline today",
    "I'm studying psychology, exams this week",
    "我在洗车，等下回你",
    "心理科的医生让我别太焦虑，我月底还",
]


@pytest.mark.parametrize("text", AFTER_AN_ATTEMPT)
def test_care_after_an_attempt_is_a_crisis_by_rule(text: str) -> None:
    """Removing the eighth wave's three lines from `LATER_SIGNS` makes all 11 fail (tried)."""
    assert is_crisis(folded(text)), text


@pytest.mark.parametrize("text", AFTER_AN_ATTEMPT_LOOKALIKES)
def test_care_after_an_attempt_lookalikes_are_not_a_crisis(text: str) -> None:
    assert not is_crisis(folded(text)), text


STOP_FAMILIES = [
    "请勿来电",  # a verb of contact after a negation
    "不用再致电我了",
    "你们停止打来好吗",
    "以后都不再联系我",
    "唔使再打嚟",
    "請停止推送",
    "我不想再接你们的电话",
    "拒绝接听催收电话",
    "取消全部提醒",
    "从通讯录里删掉我",  # removal from a list
    "把我的号码移出你们的名单",
    "請從列表刪除我",
    "delete my number from the call list",
    "scrub me from your database",
    "I'd like to stop getting these",
    "I no longer want to be contacted",
    "I don't consent to these texts",
    "cancel all alerts",
    # the eighth wave, from unseen6: one channel only, no phone calls
    "Email only from now on, no phone calls",
    "whatsapp only pls",
    "只能发邮件联系我",
]
STOP_LOOKALIKES = [
    "不用了，谢谢你们的电话",
    "能把我从黑名单删掉吗",
    "让你们经理联系我",
    "please cancel the autopay",
    "I want to stop by the branch",
    "can I pay by email only? how",
    "only one text a day got through",
]


@pytest.mark.parametrize("text", STOP_FAMILIES)
def test_every_family_of_opt_out_wording_is_a_stop_by_rule(text: str) -> None:
    """Removing the fourth wave's lines of `STOP_PHRASE` makes 17 of these 18 fail (tried), and the unseen4 test."""
    assert is_stop(text, folded(text)) or asks_to_stop(folded(text)), text


@pytest.mark.parametrize("text", STOP_LOOKALIKES)
def test_the_opt_out_families_lookalikes_are_not_a_stop(text: str) -> None:
    assert not is_stop(text, folded(text)), text
    assert not asks_to_stop(folded(text)), text


def test_the_unseen4_set_keeps_its_level() -> None:
    """unseen4 (written from the opt-out wording and the crisis lines' signs before the fourth
    wave changed any rule, never trained on): every stop and crisis message caught, as measured
    after the wave (docs/assistant.md, "The unseen4 set")."""
    rows = dataset.load(source=dataset.UNSEEN4_FILE)
    assert len(rows) >= 150
    assert {r.split for r in rows} == {"unseen4"}
    assert sum(r.intent == "stop" for r in rows) >= 50
    assert sum(r.intent == "vulnerable" for r in rows) >= 50
    result = dataset.evaluate(rows, [understand(r.message.text, at=r.message.at) for r in rows])
    assert result.recall_stop == 1.0
    assert result.recall_vulnerable == 1.0
    assert result.macro_f1 >= 0.90


def test_the_unseen5_set_keeps_its_level() -> None:
    """unseen5 (written from crisis sources the earlier waves did not use, before the seventh
    wave changed any cue, never trained on): every stop and crisis message caught, macro F1 as
    measured before and after the wave less a point, its promises read exactly (docs/assistant.md,
    "The unseen5 set"). Without the crisis floor (`VULNERABLE_FLOOR` at 1.01) it fails (tried)."""
    rows = dataset.load(source=dataset.UNSEEN5_FILE)
    assert len(rows) >= 240
    assert {r.split for r in rows} == {"unseen5"}
    assert sum(r.intent == "stop" for r in rows) >= 30
    assert sum(r.intent == "vulnerable" for r in rows) >= 60
    assert {r.intent for r in rows} == set(INTENTS)
    result = dataset.evaluate(rows, [understand(r.message.text, at=r.message.at) for r in rows])
    assert result.recall_stop == 1.0
    assert result.recall_vulnerable == 1.0
    assert result.macro_f1 >= 0.89
    assert result.both_exact == 1.0
