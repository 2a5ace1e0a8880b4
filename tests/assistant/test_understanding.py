"""What a message means (recoup.assistant.understanding): the rules' precedence, the issue's
example, languages, and the shipped model's artefact."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from recoup.assistant import classifier, understanding
from recoup.assistant.understanding import INTENTS, Understanding, detect_language, understand

pytestmark = pytest.mark.pure
SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2026, 6, 10, 9, 12, tzinfo=SHANGHAI)  # a Wednesday


def test_the_vocabulary_is_the_issue_s_fourteen_intents_in_its_order() -> None:
    assert INTENTS == (
        "pay_now",
        "promise_to_pay",
        "payment_plan",
        "extension",
        "already_paid",
        "balance_question",
        "dispute",
        "hardship",
        "stop",
        "wrong_person",
        "talk_to_human",
        "complaint",
        "vulnerable",
        "other",
    )
    assert set(understanding.model().classes) == set(INTENTS)


def test_the_issue_s_example_is_a_promise_of_500_yuan_on_next_week_s_friday() -> None:
    u = understand("下周五还500", at=AT)
    assert u == Understanding(
        intent="promise_to_pay",
        confidence=u.confidence,
        amount_minor=50_000,
        date=dt.date(2026, 6, 19),
        language="zh-Hans",
    )
    assert 0 < u.confidence <= 1


class TestRules:
    @pytest.mark.parametrize(
        "text",
        [
            "我不想活了",
            "我不想活了，退订",  # crisis wins over a stop keyword
            "活著沒意思 TD",
            "唔想活",
            "I want to kill myself",
            "STOP. I'm going to end my life",
            "bu xiang huo le",
            "我下周五还500，但是我真的想自杀",  # over a promise
            "不 想 活 了",  # spaces between the characters
        ],
    )
    def test_a_crisis_cue_is_vulnerable_whatever_else_the_message_says(self, text: str) -> None:
        """Catches `is_crisis` running after the stop rule or the model."""
        u = understand(text, at=AT)
        assert (u.intent, u.confidence) == ("vulnerable", 1.0)

    @pytest.mark.parametrize(
        "text",
        [
            "STOP",
            "stop",
            "Stop please",
            "TD",
            "td",
            "T",
            "退订",
            "退訂",
            "停",
            "unsubscribe",
            "退订谢谢",
            "STOP 退订",
            "请不要再给我发短信了",
            "別再傳簡訊給我",
            "stop texting me",
            "remove my number",
            "I will pay next week STOP",
        ],
    )
    def test_an_unsubscribe_request_is_stop(self, text: str) -> None:
        """Catches the stop rule removed or running after the model."""
        assert understand(text, at=AT).intent == "stop"

    @pytest.mark.parametrize(
        ("text", "intent"),
        [
            ("这不是我的号码", "wrong_person"),
            ("I lost my job", "hardship"),
            ("can you break down principal and interest", "balance_question"),
        ],
    )
    def test_everyday_words_near_the_cues_are_not_read_as_them(
        self, text: str, intent: str
    ) -> None:
        assert understand(text, at=AT).intent == intent

    @pytest.mark.parametrize("text", ["烦死了", "吓死人了", "笑死", "dead tired today lol"])
    def test_death_in_an_everyday_phrase_is_no_crisis_cue(self, text: str) -> None:
        """The rule's exceptions ("烦死" says "very annoying"); the model may still flag such a
        message past its floor, which costs an agent's look."""
        assert not understanding.is_crisis(understanding.to_simplified(text.lower()))

    def test_a_stop_request_about_someone_else_is_not_stop(self) -> None:
        """THIRD_PARTY: "别再打给我妈" asks not to call the mother, not to stop contacting the
        writer; without the check it would be read as stop."""
        assert understanding.asks_to_stop("别再打给我妈了")
        assert understand("别再打给我妈了 她有心脏病 你们太过分了", at=AT).intent != "stop"

    def test_a_stop_request_from_the_wrong_person_is_wrong_person(self) -> None:
        """The labelled set's priority (vulnerable > wrong_person > stop)."""
        assert understand("我不是借款人 别再发了", at=AT).intent == "wrong_person"

    @pytest.mark.parametrize(
        "text",
        [
            "N",
            "n 谢谢",
            "不想再收到你们的消息",
            "以后别再给我发消息",
            "no more messages",
            "pls no more msgs from u",
            "唔好再send message俾我",
            "唔好再send嘢俾我啦",
            "別再傳訊息給我",
            "不要再傳訊息過來",
        ],
    )
    def test_a_request_to_stop_receiving_messages_is_stop_even_when_the_model_says_wrong_person(
        self, text: str
    ) -> None:
        """A request to stop receiving messages is `stop`; `wrong_person` needs a claim that the
        number is not theirs (`claims_wrong_person`). The model, trained on wrong-person messages
        that also say "别发了", reads some of these as `wrong_person` ("N" at 0.45): with the
        stop rule giving way to any `wrong_person` reading (the check before this wave: `intent
        != "wrong_person"`), "N" fails here (tried). The decision is also tested below with the
        model's probabilities fixed, so a retrained model cannot hide the rule."""
        assert understand(text, at=AT).intent == "stop"

    @pytest.mark.parametrize(
        ("text", "intent"),
        [
            ("N", "stop"),
            ("不想再收到你们的消息", "stop"),
            ("no more messages", "stop"),
            ("別再傳訊息給我", "stop"),
            ("你们打错了 别再发了", "wrong_person"),
            ("這不是我的號碼 別再傳了", "wrong_person"),
            ("wrong number, dont text me", "wrong_person"),
            ("I'm not Wang Fang, stop texting this number", "wrong_person"),
        ],
    )
    def test_with_the_model_reading_wrong_person_only_a_claim_makes_it_wrong_person(
        self, text: str, intent: str
    ) -> None:
        """The rules over a model that puts `wrong_person` first: the stop requests without a
        claim are `stop` (fails with the claim check removed: tried), the ones that say the
        number is not theirs stay `wrong_person`."""
        classes = understanding.model().classes
        proba = np.array(
            [0.6 if c == "wrong_person" else 0.4 / (len(classes) - 1) for c in classes]
        )
        assert understanding.decide(text, classes, proba)[0] == intent


class TestTheFloors:
    """The floors over fixed probabilities (a text no rule reads), so a retrained model cannot
    hide them."""

    TEXT = "嗯"

    def reading(self, **given: float) -> str:
        classes = understanding.model().classes
        rest = (1.0 - sum(given.values())) / (len(classes) - len(given))
        proba = np.array([given.get(c, rest) for c in classes])
        return understanding.decide(self.TEXT, classes, proba)[0]

    def test_a_crisis_probability_at_the_fifth_wave_floor_is_a_crisis(self) -> None:
        """0.13 is past 0.12 and under the floor before it (0.2): raising the floor back fails
        it."""
        assert self.reading(vulnerable=0.13, other=0.5) == "vulnerable"
        assert self.reading(vulnerable=0.11, other=0.5) == "other"

    def test_both_floors_reached_the_likelier_wins(self) -> None:
        """A stop read at 0.44 with a crisis at 0.18 besides stays a stop (fails without the
        comparison: tried once); a crisis likelier than the stop stays a crisis."""
        assert self.reading(stop=0.44, vulnerable=0.18) == "stop"
        assert self.reading(stop=0.2, vulnerable=0.3) == "vulnerable"
        assert self.reading(stop=0.1, vulnerable=0.13) == "vulnerable"


class TestLanguage:
    @pytest.mark.parametrize(
        ("text", "written"),
        [
            ("我现在还欠多少钱", "zh-Hans"),
            ("請問我現在還欠多少錢", "zh-Hant"),
            ("唔該", "zh-Hant"),  # Cantonese
            ("好的", "zh"),  # characters both scripts share
            ("how much do I owe", "en"),
            ("N", None),
            ("ok", None),
            ("👍", None),
            ("500", None),
        ],
    )
    def test_the_language_written_in_is_told_only_when_the_message_shows_it(
        self, text: str, written: str | None
    ) -> None:
        """What an answer follows (`assistant.flows`): a one-word "ok" or a code does not move a
        Chinese-speaking debtor's answers into English."""
        assert understanding.written_language(text) == written

    @pytest.mark.parametrize(
        ("text", "language"),
        [
            ("下周五还500", "zh-Hans"),
            ("下禮拜五還500", "zh-Hant"),
            ("唔該 幾時要還", "zh-Hant"),
            ("I will pay tmr", "en"),
            ("ok 明天还", "zh-Hans"),
            ("can i pay tmr? 谢谢 ok", "en"),
            ("TD", "zh-Hans"),  # a Chinese SMS code
            ("？", "zh-Hans"),
            ("stop", "en"),
        ],
    )
    def test_the_language_is_detected(self, text: str, language: str) -> None:
        assert detect_language(text) == language
        assert understand(text, at=AT).language == language

    def test_a_given_language_is_kept(self) -> None:
        assert understand("ok", at=AT, language="zh-Hant").language == "zh-Hant"


def test_an_already_paid_message_reads_its_date_in_the_past() -> None:
    u = understand("我周一已经还了300", at=AT)
    assert (u.intent, u.amount_minor, u.date) == ("already_paid", 30_000, dt.date(2026, 6, 8))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        understand("明天还", at=dt.datetime(2026, 6, 10, 9, 0))
    with pytest.raises(ValueError, match="language"):
        understand("明天还", at=AT, language="fr")


def test_a_long_or_empty_message_is_read_without_error() -> None:
    assert understand("", at=AT).intent in INTENTS
    assert understand("还" * 100_000, at=AT).intent in INTENTS


class TestArtefact:
    def test_the_model_is_loaded_once_per_process(self) -> None:
        assert understanding.model() is understanding.model()

    def test_the_shipped_model_round_trips_through_json(self) -> None:
        model = understanding.model()
        again = classifier.loads(classifier.dumps(model))
        assert again.classes == model.classes
        assert again.vocabulary == model.vocabulary
        for text in ("下周五还500", "I lost my job", "怎么还款"):
            assert np.array_equal(again.predict_proba(text), model.predict_proba(text))

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("not json", "not JSON"),
            ('{"format": "pickle"}', "format"),
            (
                '{"format": "recoup.assistant.intents/1", "classes": ["a", "b"], "terms": ["x"],'
                ' "idf": [1.0], "intercept": [0, 0], "coef": [[1.0]]}',
                "do not match",
            ),
        ],
    )
    def test_a_file_that_is_not_a_model_is_refused(self, text: str, problem: str) -> None:
        with pytest.raises(classifier.ClassifierError, match=problem):
            classifier.loads(text)

    def test_the_scorer_agrees_with_scikit_learn(self) -> None:
        """The numpy scorer over the JSON gives scikit-learn's own probabilities (up to the
        stored rounding): same features, same tf-idf, same softmax."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts = ["我想还钱", "怎么还款", "下周还", "不是我", "打错了", "我没借过", "明天还500"]
        labels = [
            "pay_now",
            "pay_now",
            "promise_to_pay",
            "wrong_person",
            "wrong_person",
            "dispute",
            "promise_to_pay",
        ]
        model = classifier.train(texts, labels, c=5.0)
        vec = TfidfVectorizer(
            analyzer=lambda t: classifier.features(t), min_df=classifier.MIN_DF, sublinear_tf=True
        )
        x = vec.fit_transform(texts)
        reg = LogisticRegression(C=5.0, max_iter=classifier.MAX_ITER, class_weight="balanced")
        reg.fit(x, labels)
        probe = ["下周五还我500", "你打错了吧"]
        expected = reg.predict_proba(vec.transform(probe))
        got = np.array([model.predict_proba(t) for t in probe])
        assert np.allclose(got, expected, atol=1e-3)
