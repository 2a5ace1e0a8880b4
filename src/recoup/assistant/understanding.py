"""What a debtor's message means: one intent of `INTENTS`, its confidence, the amount and date
it names, and its language.

Pure: text and the message's time in, an `Understanding` out; no database, no settings, nothing
downloaded. The same call serves the SMS and e-mail replies, the portal's chat, the CLI and the
simulator.

Rules first, where a rule is right and a miss is costly; the model for the rest:

1. `vulnerable` (signs of crisis: self-harm, wanting to die, not being able to go on; in
   simplified and traditional Chinese, Cantonese, English and pinyin) wins over everything: a
   person at once, all collection paused. A cue is a cue even negated or quoted ("I'm not going to
   kill myself"): a false alarm costs an agent's minute, a miss costs far more.
2. `stop` next: an unsubscribe keyword standing alone ("STOP", "TD", "停", with at most
   politeness around it), one that means nothing else anywhere ("退订", "unsubscribe", "opt out",
   "拒收"), or STOP and TD in capitals anywhere, as SMS gateways read them. An explicit request to
   stop messages or calls in other words ("不要再发短信了", "別再打來", "stop texting me", "remove
   my number") is `stop` too, unless the model reads the message as mainly a promise, a payment
   made, a wrong person, a dispute or a request for a plan or more time ("已经还了，别再发了" is
   `already_paid`): the labelled set's rule; `asks_to_stop` tells the acting side it asked too.
3. Otherwise the character n-gram model (`recoup.assistant.classifier`, shipped as
   `model.json`); its probability is the confidence. The rules' confidence is 1.0.

Entities come from `recoup.assistant.entities` whatever the intent (a promise needs both; an
`already_paid` reads its date in the past tense). The language is detected when not given: a
message with at least as many Han characters as Latin words is Chinese, traditional when it uses
more traditional-only than simplified-only characters.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from recoup.assistant import classifier
from recoup.assistant.entities import Tense, normalize, parse_amount, parse_date

INTENTS: tuple[str, ...] = (
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
LANGUAGES: tuple[str, ...] = ("zh-Hans", "zh-Hant", "en")
MODEL_FILE = "model.json"


@dataclass(frozen=True)
class Understanding:
    intent: str
    confidence: float
    amount_minor: int | None
    date: dt.date | None
    language: str


# -- language ------------------------------------------------------------------------------------

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z]+")
# Characters written one way in traditional and another in simplified Chinese, common in messages
# about money (each string's characters pair up position by position).
TRADITIONAL = "還號們個這錢會說請時後發資歲週禮萬兩塊給過對為貸帳麼嗎沒煩聯絡電話碼錯終結繳點幫讓處理開關債務應該問題親錄條戶從與無實們經濟難醫療薪糧學"
SIMPLIFIED = "还号们个这钱会说请时后发资岁周礼万两块给过对为贷账么吗没烦联络电话码错终结缴点帮让处理开关债务应该问题亲录条户从与无实们经济难医疗薪粮学"
HANT_ONLY = frozenset(TRADITIONAL) - frozenset(SIMPLIFIED)
HANS_ONLY = frozenset(SIMPLIFIED) - frozenset(TRADITIONAL)
# Cantonese particles, written only in Hong Kong's traditional usage.
CANTONESE = frozenset("唔係冇咗嘅佢啲喺嚟咁噉啱乜嘢睇搵畀")


def detect_language(text: str) -> str:
    """zh-Hans, zh-Hant or en (see the module docstring)."""
    han = HAN.findall(text)
    if not han or len(han) < len(LATIN_WORD.findall(text)):
        return "en"
    hant = sum(1 for ch in han if ch in HANT_ONLY or ch in CANTONESE)
    hans = sum(1 for ch in han if ch in HANS_ONLY)
    return "zh-Hant" if hant > hans else "zh-Hans"


# -- rules ---------------------------------------------------------------------------------------

CRISIS = re.compile(
    "|".join(
        [
            # zh-Hans / zh-Hant / Cantonese
            r"不想活|活不下去|活不了了|活不成了|活着没意思|活著沒意思|活着没意义|活著沒意義|不想再活|活够了|活夠了",
            r"想死|寻死|尋死|我去死|死了算了|死了算|一死了之|不如死|死给你们看|死給你們看|死了一了百了|一了百了",
            r"自杀|自殺|轻生|輕生|跳楼|跳樓|跳河|跳海|割腕|上吊|烧炭|燒炭|喝农药|喝農藥|安眠药|安眠藥|吞药|吞藥",
            r"结束生命|結束生命|结束自己|結束自己|了结自己|了結自己|了结此生|了結此生|离开这个世界|離開這個世界",
            r"告别这个世界|告別這個世界|生无可恋|生無可戀|没法活|沒法活|冇得活|唔想活|想不开|想不開|遗书|遺書",
            r"撑不下去|撐不下去|顶唔顺|頂唔順|唔想再生存|崩溃|崩潰|绝望|絕望|活唔落去|没有希望|沒有希望|没希望了|冇希望",
            r"楼顶|樓頂|顶楼|頂樓|天台|跳下去|拖累|结束这一切|結束這一切|不想再?继续|不想再?繼續|了断|了斷",
            r"抑郁|抑鬱|忧郁|憂鬱|精神科|救回来|救回來|瓶药|瓶藥|控制不住自己|控制唔到自己|好危險|很危险|很危險",
            r"(?:男朋友|男友|老公|丈夫|前夫|老婆|家人|爸|佢)打我|家暴|辈子完了|輩子完了|再见了|再見了",
            # "死" is a crisis cue except in the everyday phrases that only say "very" or "never"
            r"死(?<!烦死)(?<!煩死)(?<!吵死)(?<!笑死)(?<!累死)(?<!气死)(?<!氣死)(?<!忙死)(?<!急死)(?<!热死)(?<!熱死)(?<!冷死)(?<!困死)(?<!打死)(?!活|皮|缠|纏|板|机|機|心|账|賬|循环|循環|定|也不)",
            # English
            r"suicid|kill(?:ing)? my ?self|end(?:ing)? my (?:own )?life|end it all|take my (?:own )?life",
            r"(?:don'?t|do not|dont) (?:want|wanna) (?:to )?(?:live|be alive|exist|wake up)|no reason to live",
            r"nothing (?:left )?to live for|(?:want|wanna) to die|wanna die|better off dead|hurt(?:ing)? myself",
            r"harm(?:ing)? myself|self[- ]?harm|cut(?:ting)? myself|overdos|jump off|can'?t go on",
            r"cannot go on|can'?t take (?:it|this) any ?more|unalive|not worth living|give up on life",
            r"end myself|no way out|want it all to end|wish i (?:was|were) dead|rather be dead|i give up",
            r"disappear forever|can'?t do this any ?more|cannot do this any ?more|pills|bridge|rooftop|on the roof",
            r"(?:husband|boyfriend|partner|wife|father|dad) (?:hits|beats|hurts) me|domestic (?:violence|abuse)",
            r"depress|hopeless|no hope|psychiatric|mental hospital|end everything|final goodbye|goodbye forever",
            r"won'?t be (?:around|here) (?:much longer|anymore|any more)",
            # pinyin
            r"\bzi ?sha\b|\bbu ?xiang ?huo|\bhuo ?bu ?xia ?qu|\bxiang ?si ?le\b|\btiao ?lou\b|\bqing ?sheng\b",
        ]
    )
)
# Politeness and fillers that may stand around a lone unsubscribe keyword.
FILLER = re.compile(
    r"please|pls|plz|thanks|thank you|thx|now|immediately|asap|谢谢|謝謝|多谢|多謝|唔该|唔該|请|請|麻烦|麻煩|"
    r"马上|馬上|立刻|了|吧|啊|呀|哈|啦|喔|哦|嗯|的|好|\bok\b|\bit\b|\bme\b|[\s\W_]"
)
STOP_WORD = re.compile(
    r"\b(?:stop+|unsubscribe|unsub|td|t|opt ?out|optout|cancel|end|quit)\b|退订|退訂|停止|停|退|取消订阅|取消訂閱"
)
# Unsubscribe words that mean nothing else, anywhere in a message.
STOP_KEYWORD = re.compile(
    r"退订|退訂|取消订阅|取消訂閱|\bunsubscribe|\bunsub\b|\bopt[\s-]?out\b|拒收|停发|停發"
)
# Requests to stop messages or calls: stop unless the message is mainly something else.
STOP_PHRASE = re.compile(
    "|".join(
        [
            r"取消(?:短信|簡訊|简讯|信息|訊息|消息)?(?:提醒|通知)|(?:不要|别|別|唔好)再?(?:短信|簡訊|简讯|搵)我?",
            r"(?:不要|别|別|勿|唔好|不准|不许|不許)再?(?:给我|給我|向我|跟我|同我)?(?:发|發|打|联系|聯繫|联络|聯絡|傳|传|send|call|text)",
            r"停止(?:发送|發送|联系|聯繫|联络|聯絡|发短信|發短信|短信|簡訊|来电|來電|致电|致電|打电话|打電話|骚扰|騷擾|发信息|發信息)",
            r"\bstop (?:texting|messaging|sending|contacting|calling|emailing|txting|msging|text|sms|call|email|ringing|phoning)",
            r"(?:don'?t|do not|dont|never) (?:ever )?(?:text|contact|message|msg|sms|call|email|e-mail|txt|phone|ring) me",
            r"remove (?:me|my (?:number|phone|email|e-mail|details))|take (?:me|my number) off|no more (?:texts|messages|sms|calls|emails)",
        ]
    )
)
SHOUTED = re.compile(r"\b(?:STOP|TD|UNSUBSCRIBE)\b")


def is_crisis(text: str) -> bool:
    """A crisis cue (rule 1), in normalized text or with its spaces removed."""
    return bool(CRISIS.search(text) or CRISIS.search(re.sub(r"\s+", "", text)))


def is_stop(original: str, text: str) -> bool:
    """An unsubscribe keyword (rule 2): alone, or one that means nothing else, or in capitals;
    `original` as written, `text` normalized."""
    if SHOUTED.search(original) or STOP_KEYWORD.search(text):
        return True
    words = STOP_WORD.findall(text)
    return bool(words) and not FILLER.sub("", STOP_WORD.sub("", text))


def asks_to_stop(text: str) -> bool:
    """A request to stop messages or calls in other words ("别再发了", "stop calling me")."""
    return bool(STOP_PHRASE.search(text))


# A message that asks to stop in passing but is mainly one of these is that ("已经还了，别再发了" says
# it has paid; "我不是借款人 别发了" that it is the wrong person): the labelled set's rule.
MAINLY_ELSE = frozenset(
    {"promise_to_pay", "already_paid", "wrong_person", "dispute", "payment_plan", "extension"}
)


# -- the model -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def model() -> classifier.Model:
    """The shipped model, read once per process."""
    source = resources.files("recoup.assistant").joinpath(MODEL_FILE)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise classifier.ClassifierError(
            f"recoup/assistant/{MODEL_FILE} is missing: run `recoup assistant train`"
        ) from None
    return classifier.loads(text)


def classify(text: str) -> tuple[str, float]:
    """The intent and its confidence: the rules, then the model."""
    normalized = normalize(text)
    if is_crisis(normalized):
        return "vulnerable", 1.0
    if is_stop(text, normalized):
        return "stop", 1.0
    intent, confidence = model().predict(text)
    if asks_to_stop(normalized) and intent not in MAINLY_ELSE:
        return "stop", 1.0
    return intent, round(confidence, 4)


def understand(
    text: str, *, at: dt.datetime, language: str | None = None, currency: str = "CNY"
) -> Understanding:
    """Read one message written at `at` (aware: relative dates resolve in its zone)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be an aware datetime (the message's time in the debtor's zone)")
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    intent, confidence = classify(text)
    tense: Tense = "past" if intent == "already_paid" else "future"
    return Understanding(
        intent=intent,
        confidence=confidence,
        amount_minor=parse_amount(text, currency),
        date=parse_date(text, at, tense=tense),
        language=language or detect_language(text),
    )
