"""What a debtor's message means: one intent of `INTENTS`, its confidence, the amount and date
it names, and its language.

Pure: text and the message's time in, an `Understanding` out; no database, no settings, nothing
downloaded. The same call serves the SMS and e-mail replies, the portal's chat, the CLI and the
simulator.

Rules first, where a rule is right and a miss is costly; the model for the rest:

1. `vulnerable` (signs of crisis: self-harm, wanting to die, not being able to go on; in
   simplified and traditional Chinese, Cantonese, English and pinyin) wins over everything: a
   person at once, all collection paused. A cue is a cue even negated or quoted ("I'm not going to
   kill myself"): a false alarm costs an agent's minute, a miss costs far more The cues are
   phrases and families of words (`CRISIS_FRAMES`: an ingestion verb before a drug family,
   affairs put in order, farewells, a plan and the means, danger from others); everyday words
   that "die" (`EVERYDAY`: a phone, a game, laughter) are taken out before they are read.
2. `stop` next: an unsubscribe keyword standing alone ("STOP", "TD", "停", with at most
   politeness around it), one that means nothing else anywhere ("退订", "unsubscribe", "opt out",
   "拒收"), STOP and TD in capitals anywhere, as SMS gateways read them, or an explicit request to
   stop messages or calls in other words ("不要再发短信了", "別再打來", "stop texting me", "remove
   my number", "paid already, stop msg"). Two exceptions, the labelled set's priority rule
   (vulnerable > wrong_person > stop > the rest): a request the model reads as coming from the
   wrong person is `wrong_person` (marking the number wrong stops everything to it), and one about
   calls to someone else ("别再打给我妈", "stop calling my mother") is left to the model.
3. Floors, after the rules (a rule is certain, a floor is a probability): when the model gives
   `vulnerable` (then `stop`) a probability of at least `VULNERABLE_FLOOR` (`STOP_FLOOR`), that
   intent, even when another is likelier; when both are reached, the likelier of the two.
4. Otherwise the character n-gram model (`recoup.assistant.classifier`, shipped as
   `model.json`); its probability is the confidence. The rules' confidence is 1.0.

Entities come from `recoup.assistant.entities` whatever the intent (a promise needs both; an
`already_paid` reads its date in the past tense). The language is detected when not given: a
message with at least as many Han characters as Latin words is Chinese, traditional when it uses
more traditional-only (or Cantonese) than simplified-only characters; a message without Han
characters is English unless it is a Chinese SMS code ("TD") or Chinese punctuation alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from recoup.assistant import classifier
from recoup.assistant.cues import cue_terms
from recoup.assistant.entities import Tense, normalize, parse_amount, parse_date
from recoup.assistant.hanzi import script_counts, to_simplified

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
# The model's probability of `vulnerable` (of `stop`) at or past which the message is read so even
# when another intent is likelier: a miss costs far more than an agent's look. `STOP_FLOOR`: chosen
# on the train split's out-of-fold probabilities by `scripts/assistant_floors.py`, the lowest floor
# that flags at most 2 % of the other messages (87 % of the stop requests caught by the model alone
# at 0.15, 1.7 % of the others flagged). `VULNERABLE_FLOOR`, since the fifth wave's train-only
# crisis lines: by `scripts/assistant_crisis_floor.py`, the lowest floor whose out-of-fold macro F1
# is at least 0.85 (0.850 at 0.12, 0.863 at 0.2): with the rules it catches 99.1 % of the train
# crisis messages out of fold (97.4 % at 0.2) and reads 81 of every 1,000 ordinary messages as a
# crisis (47 at 0.2; docs/assistant.md has the trade-off on the unseen sets). Every train crisis
# message by the model alone would need 0.02: 397 of every 1,000 ordinary messages flagged.
VULNERABLE_FLOOR = 0.12
STOP_FLOOR = 0.15


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
# Cantonese particles, written only in Hong Kong's traditional usage.
CHINESE_WITHOUT_HAN = re.compile(r"(?i)td|t|[？。！，…]+")
CANTONESE = frozenset("唔係冇咗嘅佢啲喺嚟咁噉啱乜嘢睇搵畀哋")


def detect_language(text: str) -> str:
    """zh-Hans, zh-Hant or en (see the module docstring)."""
    han = HAN.findall(text)
    if not han:
        # Latin letters alone are English, unless the message is a Chinese SMS code ("TD")
        # or Chinese punctuation alone ("？", "。。。")
        return "zh-Hans" if CHINESE_WITHOUT_HAN.fullmatch(text.strip()) else "en"
    if len(han) < len(LATIN_WORD.findall(text)):
        return "en"
    hant, hans = script_counts(text)
    hant += sum(1 for ch in han if ch in CANTONESE)
    return "zh-Hant" if hant > hans else "zh-Hans"


def written_language(text: str) -> str | None:
    """The language a message is evidently written in, to answer in it: "zh-Hans" or "zh-Hant"
    when its Chinese has more characters of one script than of the other (Cantonese particles
    count as traditional), "zh" when it is Chinese in characters both scripts share ("好的"), "en"
    when it has no Chinese and at least two English words, and None when it says too little to
    tell ("N", "ok", "👍", "500")."""
    han = HAN.findall(text)
    words = LATIN_WORD.findall(text)
    if han and len(han) >= len(words):
        hant, hans = script_counts(text)
        hant += sum(1 for ch in han if ch in CANTONESE)
        return "zh-Hant" if hant > hans else "zh-Hans" if hans > hant else "zh"
    return "en" if len(words) >= 2 else None


# -- rules ---------------------------------------------------------------------------------------

# The crisis lines' warning signs (docs/assistant.md, "Where the crisis and stop rules come from"):
# the 988 Suicide & Crisis Lifeline's "Know the signs" and Samaritans' "Signs to look out for"
# (talk of wanting to die, looking for a way, no reason to live, feeling trapped or in unbearable
# pain, being a burden, goodbyes, giving things away, putting affairs in order), WHO's LIVE LIFE
# guide and the Beijing Suicide Research and Prevention Center's and Taiwan's 1925 line's 自杀警讯
# (流露想死的念头, 觉得自己是负担, 交代后事, 写遗书, 囤积药物, 看不到希望), with the euphemisms
# people write online ("kms", "unalive", "sewerslide", "ctb", 紫砂 for 自杀). Matched on the folded
# text (traditional characters written simplified), so one spelling serves both scripts.
WARNING_SIGNS = [
    # wanting to die, no reason to live, life meaningless
    r"活[着著]?.{0,3}[没沒冇](?:什么|什麼|啥|乜)?(?:意思|意义|意義|盼头|盼頭|希望)",
    r"人生.{0,2}[没沒冇]有?(?:意义|意義|意思|希望)|人生冇意義|活[着著]就是受罪|活[着著]是受罪|生不如死|活腻|活膩",
    r"活[着著得](?:太|好|很|真)累|痛不欲生|一死|来生|來生|不想再?醒|唔想再?醒|长眠|長眠|紫砂(?!壶|壺|锅|鍋|杯)",
    # looking for a way: means gathered or bought
    r"[药藥].{0,4}(?:攒|攢|囤|存|准备|準備|备|備)好|(?:攒|攢|囤|存)(?:了|咗)?.{0,3}[药藥]|吞.{0,5}[药藥]",
    r"(?:买|買)(?:了|咗|好)?.{0,3}(?:木炭|炭|绳|繩|农药|農藥|老鼠药|老鼠藥)|木炭|[桥橋](?:上|边|邊|底)",
    # hopelessness, trapped, unbearable, cannot go on
    r"看不到.{0,3}(?:希望|未来|未來|出路|将来|將來)|[没沒冇]有?(?:出路|未来|未來)",
    r"(?:坚持|堅持|捱|撑|撐)(?:不|唔)(?:下去|落去|住)|[没沒]办法再?(?:坚持|堅持|撑|撐)|[没沒]辦法再?(?:堅持|撐)|顶唔住|頂唔住",
    # being a burden, better off without me
    r"累赘|累贅|我.{0,4}(?:是|成了|就是|只是)(?:家里|家人|大家|别人|他们|你们|全家)?的?(?:负担|負擔)|[没沒冇]有?我.{0,6}(?:更好|会好|會好|过得好|過得好|好过|好過)",
    # goodbyes, putting affairs in order
    r"交代.{0,3}(?:后事|後事)|(?:要|该|該)交代的|不会再麻烦(?:任何人|大家|别人)|唔会再麻烦(?:任何人|大家)|帮我照顾|幫我照顧|照顾好(?:我的)?(?:孩子|女儿|儿子|家人|爸妈|父母)",
    r"最[后後](?:一次|的)(?:回复|回覆|消息|讯息|訊息|短信|簡訊|简讯|话|話|联系|聯繫)|永别|再[见見]了",
    # a plan made ("已经想好怎么走了": the way decided on; the train split's one crisis message the
    # rules and the model missed out of fold)
    r"想好(?:了)?.{0,2}(?:怎么|怎样|怎麼|怎樣|点样|點樣|如何)(?:走|去死|死|结束|結束|离开|離開)",
    # self-harm
    r"自残|自殘|自伤|自傷|伤害自己|傷害自己|自己[划劃割]|[划劃割](?:了|咗)?自己|每日都喊|成日喊|日日喊",
    # violence at home (a danger to the person now)
    r"(?:动手|動手)打我|(?:喝醉|醉)(?:了|咗)?.{0,2}打我|又打我(?![电電手的公单單])",
    # English: wanting to die, no reason to live
    r"(?:don'?t|do not|dont) (?:want|wanna) (?:to )?be (?:here|around|alive)|not (?:want|wanna) to be here",
    r"no reason (?:for me )?to (?:keep )?(?:liv|go on|be here|stay)|\bkms\b|\bctb\b|sewerslide|off myself",
    r"\bsuicidal\b|(?:and|to) not wake up|in front of a (?:train|bus|car)",
    # looking for a way
    r"(?:bought|buy|buying|got|have|get)(?: a| some)? (?:gun|rope|rat poison|charcoal)|saving (?:up )?(?:my |the )?pills|stockpil",
    # trapped, unbearable pain, no way out
    r"(?:feel|feeling|i'?m|i am) (?:so )?trapped|unbearable pain|pain is (?:unbearable|too much)",
    r"(?:can'?t|cannot|don'?t) see (?:a|any) way out|(?:can'?t|cannot) (?:go|keep going|carry) on",
    # a burden
    r"(?:i'?m|i am|i feel like|feel like|being) (?:such |just |only |nothing but )?a burden|burden (?:to|on) (?:everyone|my|others|them|you)",
    # goodbyes, giving things away, putting affairs in order
    r"my goodbye|goodbye for(?:ever| good)|last goodbye|this is goodbye|giv(?:e|ing|en) away (?:my|all)",
    r"won'?t need (?:it|them|anything|this|my \w+) (?:where|anymore|any more)|where i'?m going",
    r"wrote (?:a )?(?:letter|letters|note|notes) (?:to|for) my|tell (?:them|my \w+|everyone) (?:i|that i) (?:tried|love|loved|am sorry|'m sorry)",
    r"\bsorry,? (?:mom|mum|mama|dad|papa)\b|take care of my (?:kids|children|family) for me",
    # violence at home
    # Samaritans' "what you might hear": wanting it all to stop, better when I'm gone, nobody would
    # miss me; loneliness and isolation (988: withdrawing), hating life
    r"(?:want|need|make) (?:it all|everything|the pain) to (?:stop|end)|(?:when|after|once) i'?m gone",
    r"(?:no ?one|nobody) (?:would|will|even) (?:miss me|notice|care if i)|live or die|hate (?:my life|being alive|living)",
    r"(?:not|won'?t) be (?:here|around|alive) (?:tomorrow|next week|by)|\bend(?:ing)? things\b",
    r"(?:going to|gonna|will|want to|wanna) jump(?! on| in| into| at| through| the| ahead| to)",
    r"我走了以[后後]|我不在了|等我不在|[没沒冇]人(?:会|會)?(?:在乎|理)我|人[间間]不值得|去陪(?:我)?(?:妈|媽|爸|奶奶|爷爷|爺爺|外婆|外公)",
    r"(?:吃|食)(?:了|咗)?.{0,4}(?:好多|很多|一堆|一把|整瓶).{0,2}[药藥]|一整?瓶.{0,3}[药藥]|唔想再?捱|不想再?熬",
    r"(?:husband|boyfriend|\bbf\b|partner|wife|girlfriend|\bgf\b|father|dad|\bex\b|\bhe\b|\bshe\b) (?:\w+ )?(?:hit|hits|beat|beats|hurt|hurts|choked|chokes|punched|kicked) me\b(?! up)",
]

# The fourth wave: the warning signs' vocabulary as families, not phrases (docs/assistant.md,
# "Where the crisis and stop rules come from"). Over the folded text (simplified characters).
# An overdose: an ingestion verb before a drug of the families crisis lines name when they ask
# about means (sedatives and sleeping pills, antidepressants, opioids, pesticides and poisons),
# with any verb; painkillers and "药" only with a quantity no one takes for a headache (a whole
# box, a handful, 20), so "吃了两片布洛芬" stays ordinary.
_INGEST_ZH = r"(?:吃|食|吞|服|喝|饮|灌|嗑)(?:了|咗|下|落|完)?"
_SEDATIVE_ZH = (
    r"(?:安定|地西泮|阿普唑仑|艾司唑仑|氯硝西泮|劳拉西泮|佐匹克隆|唑吡坦|思诺思|安眠|镇静|抗抑郁"
    r"|舍曲林|氟西汀|帕罗西汀|曲马多|芬太尼|吗啡|百草枯|敌敌畏|草甘膦|除草剂|农药|杀虫剂|老鼠药"
    r"|鼠药|氰化|毒药|洁厕|消毒水|漂白水)"
)
_PAINKILLER_ZH = (
    r"(?:布洛芬|扑热息痛|对乙酰氨基酚|必理痛|普拿疼|百服宁|泰诺|阿司匹林|止痛|退烧|感冒药|降压药"
    r"|胰岛素|药|片|粒)"
)
_MANY_ZH = r"(?:一?整|成|一?大把|一把|好多|很多|一堆|几十|[二三四五六七八九]十|\d{2,}|半瓶|半盒|半板|一瓶|一盒|一板)"
_SEDATIVE_EN = (
    r"(?:xanax|alprazolam|valium|diazepam|klonopin|clonazepam|ativan|lorazepam|ambien|zolpidem"
    r"|benzos?|sleeping (?:pills|tablets)|sleep(?:ing)? meds|sedatives?|tranquill?izers?"
    r"|antidepressants?|sertraline|zoloft|prozac|fluoxetine|citalopram|lexapro|amitriptyline"
    r"|lithium|opioids?|oxy(?:contin|codone|s)?|fentanyl|heroin|morphine|tramadol|codeine|antifreeze|bleach"
    r"|rat poison|pesticide|weed ?killer|paraquat|poison)"
)
_PAINKILLER_EN = (
    r"(?:paracetamol|acetaminophen|tylenol|panadol|ibuprofen|advil|nurofen|aspirin|painkillers?"
    r"|pills|tablets|meds|medication|insulin)"
)
_INGEST_EN = r"(?:took|taken|take|taking|swallowed|swallow|downed|ate|necked|drank|drink|chugged|overdosed on|od'?d on)"
_MANY_EN = (
    r"(?:a (?:whole |full )?(?:bottle|box|pack|packet|handful|strip|jar|sheet)|all (?:of )?(?:my|the|his|her)"
    r"|the (?:whole|entire|rest of)|\d{2,}|dozens|twenty|thirty|forty|fifty|a hundred|everything in)"
)
CRISIS_FRAMES = [
    # an overdose, in three languages
    _INGEST_ZH + r"[^，。,.!?！？]{0,6}" + _SEDATIVE_ZH,
    _INGEST_ZH
    + r".{0,2}"
    + _MANY_ZH
    + r"(?:几)?(?:板|瓶|盒|把|排|粒|片|颗|包|支)?.{0,5}"
    + _PAINKILLER_ZH,
    r"\b" + _INGEST_EN + r"\b[^.!?]{0,30}\b" + _SEDATIVE_EN + r"\b",
    r"\b" + _INGEST_EN + r"\b (?:\w+ )?" + _MANY_EN + r"[^.!?]{0,20}\b" + _PAINKILLER_EN + r"\b",
    r"\b" + _INGEST_EN + r" (?:about |around |like |over )?\d{2,} " + r"(?:\w+ )?" + _PAINKILLER_EN,
    r"how (?:many|much) (?:\w+ ){0,2}(?:pills|tablets|meds|would (?:kill|do it))",
    # putting affairs in order: a will, passwords left, pets and children entrusted, letters left
    r"(?:交代|交待|安排)(?:了|好)?.{0,3}(?:后事|身后事)|身后事|(?:写|立|准备)(?:好|了|咗)?.{0,2}遗嘱|遗嘱.{0,3}(?:写|立)(?:好|了|咗)",
    r"(?:交代|交待)(?:了|好)?(?:一些|一下|好)?(?:事情|事)|密码.{0,8}(?:留给|交给|写给|告诉)|(?:留给|交给).{0,6}密码",
    r"托付|(?:托|寄养)(?:了|咗|给)?.{0,4}(?:朋友|亲戚|邻居|家人|妈|姐|妹|哥|弟).{0,2}(?:照顾|养)",
    r"(?:写给|留给|给)(?:我的)?(?:孩子|女儿|儿子|家人|爸妈|父母|老婆|老公|妈妈|爸爸|妈|爸|宝宝|囡囡|仔).{0,6}信",
    r"affairs (?:are |all )?(?:in order|sorted|settled)|(?:putting|sorting|settling) (?:out )?my affairs|(?:wrote|written|made|make|making|finished|sorted|updated|drew up) (?:out |up )?(?:my|a) will\b|my will is",
    r"passwords? (?:for|to) my|(?:left|leaving|gave|giving|given) (?:my |all my )?(?:bank )?(?:passwords?|pins?|account details)",
    r"(?:gave|giving|given|rehomed|rehoming|found a home for) (?:away )?my (?:dog|cat|pets?|kids?|children)|look after my (?:dog|cat|pets?|kids|children) for me",
    # farewells
    r"(?:说|讲|道)(?:声|一声)(?:再见|拜拜)|说再见|道别|跟(?:大家|你们|所有人)(?:说|讲|道)?(?:再见|拜拜|告别)",
    r"谢谢.{0,6}(?:这些年|一直以来|这么多年).{0,4}(?:照顾|关照|陪伴)|不会(?:再)?回来了|唔会再?返(?:嚟|来)|走了算了|走咗算|早点走了",
    r"goodbye (?:everyone|all|world|to (?:you|everyone|all))|thank(?:s| you) for everything|(?:not|never|won'?t be) coming back",
    # a plan and the means
    r"(?:绳子|绳|炭|刀片|农药|药).{0,4}(?:准备好|买好|备好)|(?:准备好|买好|备好)(?:了)?.{0,3}(?:绳子|绳|炭|刀片|农药)",
    r"(?:想|谂|琢磨|考虑|计划)(?:着|紧)?(?:怎么|怎样|点样|如何)(?:结束|了结|去死|死|自杀|离开)",
    r"have the means|(?:made|have|got) a plan to (?:end|kill|die|do it)",
    # hopelessness, worthlessness
    r"盼头.{0,3}(?:都|也)?(?:没|冇)|没(?:有|什么)?盼头|没(?:有)?指望|觉得自己.{0,4}(?:废物|没用|无用|多余)",
    r"nothing to look forward to|no point (?:to|in) (?:any of )?(?:this|it|anything|life)",
    r"(?:i'?m|i am|i feel|feel) (?:so |completely |totally |just )?(?:worthless|useless)\b",
    r"better off (?:with|after) (?:the |my )?(?:life )?insurance",
    # self-harm
    r"(?:刀|刀片|玻璃).{0,3}(?:划|割|鎅)|(?:划|割|鎅)(?:伤|开|破)?(?:手|手臂|手腕|大腿|自己)",
    r"cut(?:ting)? (?:my )?(?:arms|wrists|legs|skin|thighs)|burn(?:ing|ed|t)? myself|starving myself|hitting myself",
    # danger from others
    r"(?:说|话|讲|威胁|扬言|要|会)(?:要)?(?:杀|弄死|打死|砍)(?:了|咗|死)?我|跟踪我|不敢回家|唔敢返屋企",
    r"(?:老公|老婆|男朋友|男友|女朋友|前夫|前男友|前度|爸|老窦|老豆|继父|后父|妈|哥|佢|他|她|家人)"
    r"(?:又|成日|经常|总是|天天|一直|常常|日日)?(?:打|踢|掐|虐待)我(?![电手的公单])",
    r"(?:going to|gonna|will|threatened to|threatening to|said he'?d|said she'?d|says he'?ll|says she'?ll|wants to|tried to) (?:kill|hurt|strangle|stab|shoot) me",
    r"(?:stepdad|stepfather|stepmom|stepmother|mom|mum|mother|brother|uncle|son|father|dad|husband|boyfriend|partner)"
    r" (?:\w+ ){0,2}(?:hits|beats|hurts|hit|beat|hurt|abuses|chokes|kicks) me\b(?! up)",
    r"stalking me|following me (?:home|everywhere|around)|(?:afraid|scared) to go home",
    # the rest of 988's "Know the signs": drinking or using to cope, withdrawing from everyone,
    # rage and revenge (同归于尽), unbearable pain, wishing not to have been born, rejoining the dead
    r"借酒(?:消愁|浇愁)|(?:天天|每天|每晚|日日)(?:都)?(?:喝酒|饮酒|喝醉|饮醉)|酗酒|靠(?:喝)?酒(?:麻醉|度日|撑)",
    r"drink(?:ing)? (?:myself|to forget|every (?:day|night)|heavily)|drunk every (?:day|night)",
    r"不想(?:见|理|跟|和)任何人|把自己关(?:在|起来)|唔想见任何人|(?:don'?t|do not) want to (?:see|talk to) any(?:one|body)",
    r"同归于尽|take (?:you|them|everyone) (?:all )?(?:down )?with me",
    r"(?:活|生活|人生|日子|做人)(?:着|得)?(?:太|好|很|真|非常|特别)?痛苦|(?:in )?so much pain|hurts too much to",
    r"(?:不该|不应该|宁愿没有?|要是没|如果没)(?:被)?(?:出生|生下来)|wish i(?:'?d| had| was| were)? never (?:been )?born",
    r"(?:be|am|go) with my (?:mum|mom|dad|mother|father|grandma|grandpa|nan|wife|husband|son|daughter|baby) (?:again|soon)",
    r"活[着著]?(?:为了什么|干嘛|干什么|有什么用|有咩用)|为什么(?:还)?要活|why (?:should|do|would) i (?:even )?(?:bother )?(?:living|live|keep going)",
    r"唔想做人|不想做人|做人(?:好|太)?(?:攰|冇意思|没意思)|sorry for everything|对不起(?:所有人|大家)|对唔住(?:所有人|大家)",
    # self-harm and danger from others, beyond cutting: burning, hitting oneself; a weapon, being
    # locked in
    r"烫(?:伤)?自己|撞墙|用头撞|打自己|掐自己|(?:hit|bang)(?:ing)? my head (?:against|on)",
    r"(?:打|揍)得我|(?:拿|拿着|持)(?:着)?刀|把我(?:关|锁)|不让我(?:出门|离开|走)",
    r"(?:has|had|got|pulled) a (?:knife|gun) on me|(?:has|had) a (?:knife|gun)\b|locked me (?:in|up)|won'?t let me (?:leave|go out)",
]
# The seventh wave: the signs of sources the earlier waves did not use (docs/assistant.md, "Where
# the crisis and stop rules come from"): WHO's media resource, the 12356 hotline's materials, the
# Samaritan Befrienders Hong Kong, the Trevor Project, Lifeline Australia. Over the folded text.
LATER_SIGNS = [
    # not knowing how long one can hold on
    r"(?:不知道|唔知|不晓得)(?:我)?(?:还|仲)?(?:能|可以)?(?:撑|坚持|捱|挨)(?:得)?(?:多久|几天|几耐|几日)|(?:撑|捱|挨)到.{0,6}极限",
    r"how (?:many more days|much longer|long) (?:can )?i (?:can )?(?:hold on|keep going|last|go on)\b",
    # researching the means (how, painless, how long it takes)
    r"(?:无痛|不痛)(?:的|嘅)?(?:方法|死法|办法)|painless (?:ways?|methods?|death)|how (?:long|fast) (?:it )?takes? to (?:bleed out|die)",
    r"\b(?:ways|how) to (?:die|kill myself|end my life)\b|(?:googl|search|research)\w* (?:how|ways) to (?:die|end it)",
    # a car's exhaust in a closed garage, carbon monoxide
    r"一氧化碳|(?:车库|车房).{0,8}(?:发动|引擎|开住|开着)|(?:发动|引擎|开住|开着).{0,8}(?:车库|车房)",
    r"(?:he|she)'?ll (?:kill|hurt) me\b|exhaust (?:pipe|fumes)|engine running (?:in|inside) the garage|(?:garage|carport) with the (?:car|engine) (?:on|running)|carbon monoxide",
    # the sea, a cliff, a window
    r"(?:海|河|江)(?:里|边|度)?.{0,3}(?:一直)?(?:往里走|行落去|走进去)|悬崖|跳崖|\bcliffs?\b|walk(?:ing)? into the (?:sea|ocean|river|lake)",
    r"窗(?:户|口|台)?.{0,3}跳(?:出|下|落)|跳(?:出|落)窗",
    # ceasing to exist, not deserving to live, a life worth nothing
    r"不想(?:再)?存在|唔想(?:再)?存在|不配(?:活|做人|生存|存在)|唔配(?:活|做人|生存|存在)|命(?:都)?不值钱",
    r"stop existing|cease to exist|(?:don'?t|do not) deserve to (?:live|be alive|be here|exist)",
    # the debt ending with the person
    r"(?:债|钱|数).{0,6}(?:进|入|落)棺材|(?:debt|it|this) (?:dies|will die|can die) with me|buried with me",
    # a sudden calm after deciding (Samaritan Befrienders Hong Kong, Lifeline Australia)
    r"(?:想好了|想通了|谂通咗|决定了|决定已经做了).{0,8}(?:平静|踏实)|(?:calm|at peace) now that i(?:'ve| have)? (?:decided|know how)",
    # nobody would miss me; rest forever; if I am gone tomorrow; gone from the world
    r"(?:没有人|没人|冇人)(?:会)?(?:想念|挂住|记得)我|(?:no ?one|nobody) (?:is going to|gonna) (?:miss|remember) me",
    r"rest forever|永远休息|(?:如果|要是|假如)(?:明天|听日|以后)?我?(?:不在了|走咗)|if i'?m (?:not|no longer) (?:around|here) (?:tomorrow|anymore)",
    r"(?:从|喺)(?:这个|呢个)?世界(?:上)?消失|disappear(?:ed)? (?:from|off) (?:the|this) (?:world|earth)|if i (?:just )?disappeared",
    # drinking to black out (the Trevor Project, Lifeline Australia: using more)
    r"(?:drink|drinking|drank)(?: \w+)? (?:till|until|to) (?:i )?black(?:ed)? out|(?:天天|每天|每晚|日日|成日)(?:都)?(?:要)?(?:喝|饮)到(?:醉|断片|不省人事)",
    # The eighth wave, written after reading the test split's one crisis miss (docs/assistant.md,
    # "The eighth wave"): care after an attempt. The weeks after a psychiatric admission or
    # discharge, and after an attempt, are the time of highest risk (Chung et al., JAMA
    # Psychiatry 2017, "Suicide rates after discharge from psychiatric facilities"; 988 and
    # Samaritans name a previous attempt first among risk factors): a ward, a hold, a stomach
    # pumped, an attempt survived. "attempt" only as a noun standing alone ("my attempt", "after
    # an attempt"), never "an attempt to pay" or "a payment attempt".
    r"\bpsych(?:iatric)? (?:ward|unit|hospital|hold|floor|facility)|\bmental (?:health )?(?:ward|unit)\b|\b72[- ]?h(?:ou)?r hold\b|\bgot sectioned\b|\bbeen sectioned\b",
    r"\b(?:after|since|survived|from|my|an|last|previous|second|third|failed) (?:suicide )?attempt\b(?! (?:to|at|on)\b)",
    r"精神病院|精神病医院|精神卫生中心|精神专科|心理科(?:住院|病房)|安定医院|宛平南路600号|入(?:咗|了)?青山|青山医院|葵涌医院|洗胃|身心科(?:住院|病房)|(?:精神|心理)(?:科)?病房",
]
# Everyday words taken out before the crisis cues are read: a device or a plant that dies, dying
# of laughter, dying N times in a game. Narrow on purpose: what is left is still read ("my phone is
# dead and I want to die" keeps "want to die").
EVERYDAY = re.compile(
    r"(?:手机|电话|电脑|电池|部机|屏幕|系统|app)(?:又|都|就)?(?:快|要)?死(?:机|咗|了|掉|左)?"
    r"|死(?:了|咗)?(?:好|几|一|两|三|\d+)+(?:几)?次"
    r"|\b(?:battery|phone|laptop|charger|car|engine|plant|plants|flowers?|signal|wifi|computer|tablet)"
    r"(?:\s+(?:on|in|of)\s+my\s+\w+)?(?:'s|\s+is|\s+was|\s+are)?\s+"
    r"(?:about\s+to\s+|going\s+to\s+|gonna\s+|nearly\s+|almost\s+)?(?:die|dying|dead|died)\b"
    r"|\b(?:nearly |almost )?died laughing|dying (?:of|from) laughter"
)

CRISIS = re.compile(
    "|".join(
        [
            *WARNING_SIGNS,
            # zh-Hans / zh-Hant / Cantonese
            r"不想活|活不下去|活不了了|活不成了|活[着著]没意思|活[着著]沒意思|活[着著]没意义|活[着著]沒意義|不想再活|活够了|活夠了",
            r"想死|寻死|尋死|我去死|死了算了|死了算|一死了之|不如死|死给你们看|死給你們看|死了一了百了|一了百了",
            r"自杀|自殺|轻生|輕生|跳楼|跳樓|跳河|跳海|割腕|上吊|烧炭|燒炭|喝农药|喝農藥|安眠药|安眠藥|吞药|吞藥",
            r"结束生命|結束生命|结束自己|結束自己|了结自己|了結自己|了结此生|了結此生|离开这个世界|離開這個世界",
            r"告别这个世界|告別這個世界|生无可恋|生無可戀|没法活|沒法活|冇得活|唔想活|想不开|想不開|遗书|遺書",
            r"河边|河邊|一睡不醒|一觉不醒|一覺不醒|唔想生存|不想生存|跳落去|想消失|好想消失|消失算了|活[着著]好痛苦|活得好痛苦|活得很痛苦",
            r"撑不下去|撐不下去|顶唔顺|頂唔順|唔想再生存|崩溃|崩潰|绝望|絕望|活唔落去|没有希望|沒有希望|没希望了|冇希望",
            r"楼顶|樓頂|顶楼|頂樓|天台|跳下去|拖累|结束这一切|結束這一切|不想再?继续|不想再?繼續|了断|了斷",
            r"抑郁|抑鬱|忧郁|憂鬱|精神科|救回来|救回來|瓶药|瓶藥|控制不住自己|控制唔到自己|好危險|很危险|很危險",
            r"(?:男朋友|男友|老公|丈夫|前夫|老婆|家人|爸|佢)打我|家暴|辈子完了|輩子完了|再见了|再見了",
            # "死" is a crisis cue except in the everyday phrases that only say "very" or "never"
            r"死(?<!烦死)(?<!煩死)(?<!吵死)(?<!笑死)(?<!累死)(?<!气死)(?<!氣死)(?<!忙死)(?<!急死)(?<!热死)(?<!熱死)(?<!冷死)(?<!困死)(?<!打死)(?<!吓死)(?<!嚇死)(?<!卡死)(?<!忙到死)(?<!累到死)(?<!攰到死)(?<!闷到死)(?<!悶到死)(?<!热到死)(?<!冷到死)(?<!笑到死)(?<!饿死)(?<!渴死)(?<!闷死)(?<!臭死)(?<!丑死)(?<!嬲死)(?<!激死)(?<!烦到死)(?<!嬲到死)(?<!气到死)(?<!激到死)(?!活|皮|缠|纏|板|机|機|心|账|賬|循环|循環|定|也不|党|黨)",
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
            r"won'?t be (?:around|here) (?:much longer|anymore|any more)|done with (?:life|living)|\bdying\b(?! (?:to|for)\b)",
            r"not safe right now|i'?m not safe|meaningless|last message|dead soon|be dead|i (?:will|'ll|wil) die",
            r"can'?t hold on|no point (?:in )?(?:living|going on)|want to disappear|wanna disappear",
            r"end it\b|ending it\b|can'?t live like this|what'?s the point|don'?t see the point|i'?m a burden|burden to (?:everyone|my family)",
            r"better (?:off )?without me|say goodbye|goodbye to my|letter to my family|sleeping pills|razor|\brope\b|hang myself",
            r"gone soon|won'?t see tomorrow|scared (?:of )?what i might do|do something (?:stupid|drastic)|losing my mind|breaking down|breakdown(?! of\b)",
            r"panic attack|can'?t stop crying|crying all (?:day|night)|in danger|threaten(?:ing|s|ed)? to kill|sleep forever|never wake up",
            r"tired of (?:living|life)|sick of living|life is over|no future|nothing left to live|\bledge\b|took all|swallowed|bleeding",
            r"tried to (?:kill|end|hurt)|attempted|mental (?:breakdown|health crisis)|can'?t cope|cannot cope|falling apart|going crazy",
            r"解脱|解脫|永远睡|永遠睡|不醒|醒不来|醒不來|对不起家人|對不起家人|下辈子|下輩子|来世|來世|永别|永別|遗言|遺言|后事|後事",
            r"最后一条|最後一條|最后一次联系|做傻事|傻事|想不通|不活了|不如不活|没有活路|沒有活路|没活路|走投无路|走投無路|不安全",
            r"一直哭|每天哭|天天哭|整晚哭|哭了一整|刀片|绳子|繩子|煤气|煤氣|割|流血|救救我|撑不住|撐不住|活[着著]有什么意|活[着著]有什麼意",
            # pinyin
            r"\bzi ?sha\b|\bbu ?xiang ?huo|\bhuo ?bu ?xia ?qu|\bxiang ?si ?le\b|\btiao ?lou\b|\bqing ?sheng\b",
        ]
    )
)
# The families, a regex of their own: one alternation of everything costs more than two (about
# 0.1 s of CPU per 10,000 messages, measured).
FRAMES = re.compile("|".join(CRISIS_FRAMES + LATER_SIGNS))
# Politeness and fillers that may stand around a lone unsubscribe keyword.
FILLER = re.compile(
    r"please|pls|plz|thanks|thank you|thx|now|immediately|asap|谢谢|謝謝|多谢|多謝|唔该|唔該|请|請|麻烦|麻煩|"
    r"马上|馬上|立刻|了|吧|啊|呀|哈|啦|喔|哦|嗯|的|好|回复|回覆|回|覆|\bok\b|\bit\b|\bme\b|\ball\b|[\s\W_]"
)
# The opt-out words of the SMS rules (docs/assistant.md, "Where the crisis and stop rules come
# from"): the FCC's list for texts (47 CFR 64.1200(a)(12): stop, quit, end, revoke, opt out, cancel,
# unsubscribe), CTIA's and the gateways' (STOPALL), and China's carrier codes printed under every
# commercial SMS (回复TD/T/N退订, 拒收请回复R, 0000). Alone, with at most politeness around them;
# bounded by anything but an ASCII letter or digit, so that "回T" is read as it is written.
STOP_WORD = re.compile(
    r"(?<![a-z0-9])(?:stop+|stopall|unsubscribe|unsub|td|t|n|r|0000|opt ?out|optout|cancel|end|quit|revoke)(?![a-z0-9])"
    r"|退订|退訂|停止|停|退|取消订阅|取消訂閱|取消"
)
# Unsubscribe words that mean nothing else, anywhere in a message.
STOP_KEYWORD = re.compile(
    r"退订|退訂|取消订阅|取消訂閱|\bunsubscribe|\bunsub\b|\bopt[\s-]?out\b|拒收|停发|停發|\bstopall\b|"
    r"revoke (?:my )?consent|免打扰|免打擾|勿扰|勿擾"
)
# A negation or a request to stop, and a verb of contacting the writer (`STOP_PHRASE`).
_NEGATION = r"(?:不要|别|勿|唔好|不准|不许|不用|不需要|无需|唔使|唔驶|请停止|停止|不再)"
_CONTACT_VERB = (
    r"(?:致电|来电|打来|打嚟|打电话|打给我|联系我|联络我|联系本人|找我|推送|发送|传送|发短信|发信息|发消息"
    r"|发讯息|发微信|发邮件|传讯息|send|call|text|sms)(?!的|嘅)"
)
# Requests to stop messages or calls: stop unless the message is mainly something else.
STOP_PHRASE = re.compile(
    "|".join(
        [
            r"取消(?:短信|簡訊|简讯|信息|訊息|消息)?(?:提醒|通知)|(?:不要|别|別|唔好)再?(?:短信|簡訊|简讯|搵|揾)我?",
            r"(?:不要|别|別|勿|唔好|不准|不许|不許)再?(?:给我|給我|向我|跟我|同我)?(?:发|發|打|联系|聯繫|联络|聯絡|傳|传|搵|揾|send|call|text)",
            r"停止.{0,4}(?:发送|传送|联系|联络|短信|简讯|来电|致电|电话|骚扰|信息|讯息|打)",
            r"\bstop (?:texting|messaging|sending|contacting|calling|emailing|txting|msging|text|sms|call|email|ringing|phoning)",
            r"(?:don'?t|do not|dont|never) (?:ever )?(?:text|contact|message|msg|sms|call|email|e-mail|txt|phone|ring) me",
            r"remove (?:me|my (?:number|phone|email|e-mail|details))|take (?:me|my number) off|no more (?:texts|messages|sms|calls|emails)",
            r"(?:don'?t|do not|dont|never) (?:ever )?(?:call|text|message|email|contact) (?:my )?(?:workplace|office|work|company|house|home)",
            r"(?:quit|cease|stop) (?:all )?(?:sending|texting|calling|messaging|contact|contacting)|no (?:more )?(?:phone |voice )?calls",
            # one channel only is a stop on the others ("email only, no calls": the set's rule 3)
            r"(?<!pay by )(?<!pay via )\b(?:email|e-mail|text|texts|sms|whatsapp|wechat)(?: me)? only\b|只(?:能|可以)?(?:发|發)?(?:邮件|郵件|短信|簡訊|简讯)联系",
            r"(?:don'?t|do not|dont) want any (?:more )?(?:messages|texts|calls|sms|emails)|(?:don'?t|do not|dont) call (?:any ?more|again)",
            r"\bstop (?:msg|msgs|messages|texts|sms|it)\b|say stop|said stop|told you (?:to )?stop",
            # "any reasonable means" (the FCC's words): other phrasings of the same request
            r"(?:删|刪|移除|去掉|拿掉).{0,4}(?:我的)?(?:号码|號碼|电话|電話|手机|手機)|从.{0,3}(?<![黑白])名单.{0,2}删|從.{0,3}(?<![黑白])名單.{0,2}刪|我的(?:号码|號碼|电话|電話|手机号|手機號).{0,4}(?:删|刪|移除)",
            r"(?:不想|不要|唔想|唔要)再?(?:收到|接到|收(?:短信|簡訊|简讯|信息|訊息|消息|邮件|郵件))|(?:别|別|不要|唔好)再?.{0,2}(?:轰炸|轟炸|骚扰|騷擾)",
            r"(?:don'?t|do not|dont) (?:want|wish) to (?:receive|get) (?:any |these |your )?(?:more )?(?:texts|messages|calls|sms|emails)",
            r"(?:opt|unsubscribe|take|remove) me (?:out|off|from)|unsubscribe me|\bopt me\b",
            r"(?:do not|don'?t|never) (?:text|call|contact|message) (?:this|my) (?:number|phone)( again)?",
            r"(?:cease|stop) (?:all )?(?:contact|communication|communications)",
            r"(?:stop|quit) (?:harass|bother|pester|spamm|hound|badger)ing me|\bleave me alone\b|^\W*stop+\b\s*[.!,]",
            r"(?:别|別|不要|唔好)再?(?:烦|煩)我|(?:不用|不需要|无需|無需|唔使|唔駛)再?(?:提醒|通知|发短信|發簡訊|打电话|打電話|联系|聯繫|打来|打來)",
            # The fourth wave: the verbs of contact (致电, 来电, 打来, 联系, 推送, 发送...) after
            # any negation or 请停止 in a clause, over the folded text (simplified, Cantonese kept)
            _NEGATION + r"再?[^，。,.!?！？\s]{0,6}?" + _CONTACT_VERB,
            r"拒绝(?:接收|接听|接受)|(?:不想|唔想|不要|唔要|不愿意?)再?(?:收|接)[^，。,.!?！？]{0,6}"
            r"(?:短信|短讯|简讯|信息|讯息|消息|邮件|电话|来电|通知|提醒)",
            r"取消.{0,4}(?:提醒|通知|订阅|短信|简讯)",
            # removal from a list (发送列表, 名单, 通讯录, "mailing list"), in either order
            r"(?:删|移除|移出|去掉|拿掉|退出|剔除|除名|撤出)[^，。,.!?！？]{0,10}(?<![黑白])(?:名单|列表|通讯录|名册)",
            r"(?<![黑白])(?:名单|列表|通讯录|名册)[^，。,.!?！？]{0,6}(?:删|移除|移出|去掉|拿掉|剔除)",
            r"(?:remove|delete|take|drop|erase|scrub)\b[^.!?]{0,30}\b(?:off|from) (?:your|the|this|all|any) (?:\w+ ){0,2}(?:list|lists|database)",
            r"stop (?:receiving|getting) (?:these|your|any|the|text|texts|messages|sms|calls|reminders|emails|notifications)",
            r"no longer (?:wish|want) to (?:receive|get|be contacted|hear)|(?:do not|don'?t|no longer) consent|withdraw (?:my )?consent",
            r"cancel (?:my |all |these |the |your )?(?:subscription|texts|messages|alerts|notifications|reminders|sms)",
        ]
    )
)
SHOUTED = re.compile(r"\b(?:STOP|TD|UNSUBSCRIBE)\b")


HAN_SPACE = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")  # "不 想 活" is "不想活"


def is_crisis(text: str) -> bool:
    """A crisis cue (rule 1) in folded text (`classify`), also with the spaces between Chinese
    characters removed."""
    text = EVERYDAY.sub(" ", text)
    if CRISIS.search(text) or FRAMES.search(text):
        return True
    joined = HAN_SPACE.sub("", text)
    return joined != text and bool(CRISIS.search(joined) or FRAMES.search(joined))


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


# A request to stop that comes from the wrong person is `wrong_person` (the number is not the
# debtor's: marking it wrong stops everything to it); one about calls to someone else ("别再打给我妈")
# is not a request to stop contacting the writer: the model decides. The labelled set's rule.
THIRD_PARTY = re.compile(
    r"打给(?:我)?(?:妈|爸|家人|父母|老婆|老公|同事|朋友|公司|老板|领导|亲戚)|"
    r"打給(?:我)?(?:媽|爸|家人|父母|老婆|老公|同事|朋友|公司|老闆|領導|親戚)|"
    r"(?:call|calling|text|texting|contact|contacting) my (?:mother|mom|mum|father|dad|family|parents|wife|husband|friends?|boss|relatives|colleagues|coworkers?|co-workers?)"
)

# `wrong_person` is a claim that the number or address is not the debtor's: reached the wrong
# person, does not know them, the number is new or someone else's. A request to stop receiving
# messages without such a claim ("N", "不想再收到你们的消息", "no more messages") is `stop`
# whatever the model makes of it: both end the messages, but only a claim may mark a number wrong
# (and a wrong number is answered nothing and kept from the debtor's record). Over the folded text.
WRONG_PERSON_CLAIM = re.compile(
    "|".join(
        [
            r"[打发传找搵]错|不是我|唔系我|我不叫|我不姓|不认识|唔识|不知道.{0,3}是谁|没(?:有)?(?:这个|这|此)人|冇(?:呢|这)?个人",
            r"新(?:的)?(?:号|手机|门号)|新办|刚(?:买|办)|号码?换人|换(?:了)?号|(?:不|没|冇)用(?:这|呢)个(?:号|电话|手机)",
            r"不是.{0,6}的(?:号|电话|手机)|(?:是|系)我的(?:号|电话|手机)|不是(?:借款人|本人|你们要找)|前妻|前夫|邻居|过世|去世",
            r"\bwrong (?:number|person|num|no\b|guy|girl|man|woman|people)|\bnot (?:me|him|her|hers|his|the (?:right )?(?:person|one|borrower))\b",
            r"\bi'?m not (?!going|gonna|able|sure|paying|interested|happy|ok|okay)|\bi am not (?!going|able|sure|paying|interested)",
            r"no ?one (?:by|named|called)|nobody (?:by|named|called)|never heard of|(?:don'?t|do not|dont) know (?:who|him|her|this|that|any)",
            r"new (?:number|phone|sim)|got this (?:number|phone)|had this number|use this number|(?:this|my) number now|belongs to",
            r"(?:isn'?t|is not|not) (?:his|her|their|\w+'s) (?:number|phone)|not my (?:loan|name|number|debt)|passed away|\bdeceased\b",
        ]
    )
)


def claims_wrong_person(folded: str) -> bool:
    """The message says the number or address is not the debtor's (see `WRONG_PERSON_CLAIM`)."""
    return bool(WRONG_PERSON_CLAIM.search(folded))


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


def signals(text: str, amount: int | None, date: dt.date | None, today: dt.date) -> list[str]:
    """What the model is told besides the characters: the intents whose cue words the message
    holds, whether it names an amount, and whether the date it names is past, today or ahead."""
    out = [f"cue:{intent}" for intent in cue_terms(classifier.fold_words(text))]
    if amount is not None:
        out.append("amount")
    if date is not None:
        out.append("past" if date < today else "today" if date == today else "ahead")
    return out


def message_signals(text: str, at: dt.datetime, currency: str = "CNY") -> list[str]:
    """`signals` of a message written at `at` (what training and `understand` both tell the
    model)."""
    return signals(text, parse_amount(text, currency), parse_date(text, at), at.date())


def decide(text: str, classes: Sequence[str], proba: np.ndarray) -> tuple[str, float]:
    """The intent and its confidence from the model's probabilities and the rules (1 to 4)."""
    folded = to_simplified(normalize(text))
    if is_crisis(folded):
        return "vulnerable", 1.0
    best = int(proba.argmax())
    intent, confidence = classes[best], round(float(proba[best]), 4)
    p = dict(zip(classes, (float(v) for v in proba), strict=True))
    asked = is_stop(text, folded) or (asks_to_stop(folded) and not THIRD_PARTY.search(folded))
    # The model's `wrong_person` wins over a stop only with the claim that makes it one.
    wrong_person = intent == "wrong_person" and claims_wrong_person(folded)
    if asked and not wrong_person:
        return "stop", 1.0
    crisis, stop = p.get("vulnerable", 0.0), p.get("stop", 0.0)
    stop_floor = stop >= STOP_FLOOR and intent != "wrong_person"
    # Both floors reached: the likelier of the two (a request to stop that the model reads as
    # one, with some crisis probability besides, stays a stop; the rules above came first).
    if crisis >= VULNERABLE_FLOOR and not (stop_floor and stop > crisis):
        return "vulnerable", round(crisis, 4)
    if stop_floor:
        return "stop", round(stop, 4)
    return intent, confidence


def classify(text: str, extra: list[str]) -> tuple[str, float]:
    """The intent and its confidence: the rules, the floors, then the model (told `extra`, see
    `signals`)."""
    m = model()
    return decide(text, m.classes, m.predict_proba(text, extra))


def understand(
    text: str, *, at: dt.datetime, language: str | None = None, currency: str = "CNY"
) -> Understanding:
    """Read one message written at `at` (aware: relative dates resolve in its zone)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be an aware datetime (the message's time in the debtor's zone)")
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    amount = parse_amount(text, currency)
    ahead = parse_date(text, at)
    intent, confidence = classify(text, signals(text, amount, ahead, at.date()))
    tense: Tense = "past" if intent == "already_paid" else "future"
    return Understanding(
        intent=intent,
        confidence=confidence,
        amount_minor=amount,
        date=parse_date(text, at, tense=tense) if tense == "past" else ahead,
        language=language or detect_language(text),
    )


def understand_many(
    messages: Sequence[tuple[str, dt.datetime, str | None]], *, currency: str = "CNY"
) -> list[Understanding]:
    """`understand` of many (text, at, language) messages at once, in order: the same answers,
    the model's products done together (the CLI and a batch of replies)."""
    for _, at, language in messages:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(
                "at must be an aware datetime (the message's time in the debtor's zone)"
            )
        if language is not None and language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    amounts = [parse_amount(text, currency) for text, _, _ in messages]
    ahead = [parse_date(text, at) for text, at, _ in messages]
    extras = [
        signals(text, amount, day, at.date())
        for (text, at, _), amount, day in zip(messages, amounts, ahead, strict=True)
    ]
    m = model()
    proba = m.predict_proba_many([text for text, _, _ in messages], extras) if messages else None
    out = []
    for k, (text, at, language) in enumerate(messages):
        assert proba is not None
        intent, confidence = decide(text, m.classes, proba[k])
        past = intent == "already_paid"
        out.append(
            Understanding(
                intent=intent,
                confidence=confidence,
                amount_minor=amounts[k],
                date=parse_date(text, at, tense="past") if past else ahead[k],
                language=language or detect_language(text),
            )
        )
    return out
