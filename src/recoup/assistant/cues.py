"""Cue words per intent: what a collector reads first in a message, as features for the model.

Pure. Each cue is a regular expression over the folded text (NFKC, lower case, traditional
written simplified: `classifier.fold`, digits kept); a message that matches one gives the model a
term `cue:<intent>` besides its character n-grams, and the model learns how much each cue counts
against the rest. A labelled set of a few hundred messages per language cannot show every way of
saying "I have paid"; a list of the common ones (Mandarin, Cantonese, English, pinyin) carries
that knowledge to phrasings the set lacks. Cues are evidence, never decisions: only the crisis
and stop rules of `understanding` decide on their own.
"""

from __future__ import annotations

import re

CUES: dict[str, str] = {
    "already_paid": (
        r"已经还|已还|还了|还过|还清了|转了|转过|转账了|付了|付过|交了|缴了|打款了|已付|已转|已缴|扣了|扣款了"
        r"|还咗|俾咗|入咗|过咗数|过了数|截图|回单|凭证|流水"
        r"|\bpaid\b|already paid|have paid|i paid|payment (?:done|made|sent|completed)|made the payment|settled it|cleared it|transferred|sent (?:the|you)|made (?:the|a) payment|receipt"
        r"|\bhuan ?le\b|\byi ?huan\b"
    ),
    "promise_to_pay": (
        r"会还|一定还|保证|答应|先还|能还|可以还|到时候还|到时还|就还|再还|前还|之前还|号还|天还|再转|会转|凑"
        r"|will pay|i'?ll pay|\bill pay|going to pay|gonna pay|promise|will transfer|will send|can pay .* (?:on|by)|pay .* (?:tomorrow|tmr|friday|monday)"
    ),
    "pay_now": (
        r"怎么还|如何还|怎样还|咋还|在哪还|哪里还|去哪|链接|连接|二维码|付款方式|还款方式|还款渠道|入口"
        r"|支付宝|微信支付|银行卡|现在还|马上还|立刻还|想还|要还钱"
        r"|how (?:do|can|to) i? ?pay|how to pay|payment link|\blink\b|pay now|want to pay|pay (?:it )?(?:off )?today|where (?:do|can) i pay"
    ),
    "payment_plan": (
        r"分期|分几期|分开还|分批|分次|分成|每个月还|每月还|每期|一期|几期|按月"
        r"|instal+ment|monthly|payment plan|\bplan\b|split|in parts|bit by bit|every month|each month|per month|weekly|over (?:a )?(?:few|\d+|two|three|six) months|every payday|arrange"
    ),
    "extension": (
        r"宽限|延期|展期|缓几天|缓一缓|缓缓|晚几天|晚点还|推迟|推后|延后|多给|再给我|等几天|等等|过几天|宽容|通融"
        r"|more time|extend|extension|postpone|delay|pay later|\blater\b|a few more days|few more days|grace|hold off|give me (?:a|some) time"
    ),
    "balance_question": (
        r"多少|几多|余额|欠多少|还差|还欠|账单|帐单|到期|几号还|哪天还|剩下|剩余|利息|罚息|滞纳金|总共|一共"
        r"|how much|balance|\bowe\b|due date|when is .* due|statement|breakdown|outstanding|remaining|total|interest|late fee"
    ),
    "dispute": (
        r"不是我借|没借过|没有借|从没借|没借|搞错|弄错|有误|不对|不认|重复扣|多扣|扣了两次|盗用|冒用|冒名|被盗|合同|协议|不合理|错的|算错|早就还清|结清了|投诉到"
        r"|didn'?t borrow|never borrowed|not my (?:loan|debt)|not mine|wrong amount|incorrect|mistake|fraud|identity theft|stolen|charged twice|double charged|deducted too much|overcharg|refund|dispute|\berror\b|doesn'?t match|settlement|settled (?:by|with|through|for)|never took|only borrowed|used my name|in my name"
    ),
    "hardship": (
        r"失业|没工作|没了工作|丢了工作|工作没了|裁员|被裁|炒鱿鱼|生病|病了|住院|手术|医院|治疗|化疗|癌|没钱|没收入|收入|破产|倒闭|亏|灾|台风|洪水|火灾|地震|困难|拮据|揭不开锅|养不起|离婚|坐牢|怀孕|生孩子|残疾|冇钱|冇工"
        r"|lost (?:my )?job|laid off|retrench|fired|closed down|shut down|business (?:failed|closed)|no work|unemployed|out of work|no job|sick|hospital|surgery|illness|cancer|no income|broke|can'?t afford|cannot afford|passed away|died|funeral|flood|fire|typhoon|earthquake|divorce|pregnan|disab|struggl|hard times|hardship|bankrupt"
    ),
    "wrong_person": (
        r"不是我|打错|发错|找错|不认识|没这个人|没有这个人|不是本人|新号码|新号|号码是我|朋友的|他的|她的|前任|搵错|唔识|唔系我"
        r"|wrong number|wrong person|not me|sim card|new sim|just got this number|don'?t know (?:him|her|this person|who)|no one (?:by|named)|nobody (?:by|named)|new number|not (?:him|her)|who is this person"
    ),
    "talk_to_human": (
        r"人工|真人|客服|专员|转接|打过来|跟人|找人|同人|和人|经理|负责人|主管|有人吗|机器人|活人|职员"
        r"|\bagent\b|human|real person|\bstaff\b|\bofficer\b|customer service|hotline|\bcs\b|representative|someone|somebody|call me|speak (?:to|with)|talk (?:to|with)|explain|manager|supervisor|\bbot\b|operator"
    ),
    "complaint": (
        r"投诉|态度|骚扰|威胁|恐吓|辱骂|骂|差劲|恶劣|太差|举报|报警|家人|父母|老母|同事|公司|领导|爆通讯录|通讯录|烦|凭什么|过分|不要脸|流氓|黑社会|假冒|冒充|吓|半夜|凌晨|一天打|天天打|打了.*次"
        r"|complain|my contacts|people i know|worst|\bservice\b|rude|harass|threat|abus|report you|unprofessional|disgusting|terrible|awful|my family|my boss|my work|at work|middle of the night|every day|so many calls|police|lawyer|regulator"
    ),
    "other": (
        r"你好|您好|谢谢|早安|早上好|晚安|早晨|快乐|收到|好的|嗯|哈|在吗|你是谁|哪位|什么事|换绑|借款|额度|提额"
        r"|\bhello\b|\bhi\b|\bhey\b|\bnoted\b|\bthanks?\b|thank you|\bok\b|okay|got it|who is this|what is this|happy|good morning|invoice|borrow more|loan again|credit limit"
    ),
}
COMPILED = tuple((intent, re.compile(pattern)) for intent, pattern in CUES.items())


def cue_terms(folded: str) -> list[str]:
    """The intents whose cue words `folded` (see the module docstring) holds."""
    return [intent for intent, pattern in COMPILED if pattern.search(folded)]
