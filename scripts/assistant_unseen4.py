"""Writes src/recoup/assistant/data/unseen4.jsonl: a fourth unseen set for the rules that must
never miss (`stop`, `vulnerable`) and their false alarms, written for issue 21's fourth wave
before any rule or training line of that wave changed, without reading the labelled set's test
split (nor its misses) and without copying a line of the labelled set, unseen2 or unseen3 (an
exact repeat, a bare keyword most likely, is left out).

The opt-outs follow the public wording: CTIA's Messaging Principles and Best Practices (STOP,
STOPALL, END, CANCEL, UNSUBSCRIBE, QUIT, REVOKE, OPTOUT), the FCC's consent-revocation rule for
texts (47 CFR 64.1200(a)(10)-(12): those words and "any reasonable means", a request to be
removed from a list included), and the MIIT's 通信短信息服务管理规定 with the carriers' 回复TD/T/N
退订 and 拒收 codes, written as people write them to a lender in zh-Hans, zh-Hant and English
(致电/致電/打来 with 不要/别/勿/请停止, 发送列表, 名单, "mailing list"). The crisis messages
follow the crisis lines' published warning signs (988's "Know the signs", Samaritans' "what you
might hear", the 北京心理危机研究与干预中心's and Taiwan's 1925 安心專線's 自杀警讯, the Samaritan
Befrienders Hong Kong's 自殺警號): an overdose named by the drug (paracetamol, ibuprofen,
alprazolam, sertraline, paraquat and other pesticides), putting affairs in order (a will,
passwords, a pet given to friends, 交代后事), farewells, a plan and the means, hopelessness,
self-harm, and danger from others. The others are ordinary replies of the other intents and
lookalikes of the two rules: everyday "死" (死机, 死党, 热死), "dying battery", "stop by",
"停用", "停运".

Nothing here is trained on: it is measured, not learned from (docs/assistant.md, "The unseen4
set"). Run ``python scripts/assistant_unseen4.py``; then
``recoup assistant evaluate --split unseen4``.
"""

from __future__ import annotations

from datetime import datetime

from assistant_heldout import DATA, write_set

ZONES = {"zh-Hans": 8, "zh-Hant": 8, "en": 0}

LINES: dict[str, dict[str, list[str]]] = {
    "zh-Hans": {
        "stop": [
            "请停止向我发送任何催收短信",
            "本人要求退出你们的短信发送列表",
            "不要再致电我单位了",
            "别打来了，有事发短信",
            "请勿再联系本人",
            "以后不要再给我发任何消息",
            "把我从你们的通讯名单里删掉",
            "我拒绝接收你们的任何信息",
            "退订！！！",
            "请停止电话催收",
            "求你们别再发了",
            "微信和短信都别再发了",
            "你们能不能别再打我电话了",
            "请把这个号码设为免打扰",
            "取消所有短信通知",
            "停止给我推送消息",
            "别联系我了行吗",
            "请勿致电此号",
            "我要求你们不再以任何方式联系我",
        ],
        "vulnerable": [
            "昨晚吃了一整板布洛芬，现在胃里翻江倒海",
            "刚喝了半瓶百草枯",
            "我吞了二十几片阿普唑仑",
            "吃了一大把扑热息痛，应该快了",
            "银行卡密码我写在纸上留给我妈了，以后用得着",
            "遗嘱已经写好了，放在抽屉里",
            "跟大家说声再见，谢谢这些年照顾我",
            "绳子已经准备好了",
            "活着一点盼头都没有",
            "每天都在琢磨怎么结束这一切",
            "用刀划手臂才能让我好受点",
            "他说要杀了我，我不敢回家",
            "前男友一直跟踪我，说要弄死我",
            "我不想再拖累任何人了",
            "这个世界没有我会更好",
            "我打算周末去江边，不会回来了",
            "觉得自己是个废物，早点走了算了",
            "把猫托付给朋友了，我也就安心了",
            "后事我都交代给弟弟了",
            "我给女儿留了一封信，她长大了会懂的",
        ],
        "other": [
            "手机快没电了，晚点回",
            "电脑死机了，回头再说",
            "这游戏太难了，死了好几次",
            "我死党今天结婚，晚点聊",
            "路过你们营业厅，顺便停一下车",
            "公交停运了，我晚点到",
            "今天热死了",
            "刚从药店回来，感冒了",
            "暂停一下，我去开会",
        ],
        "pay_now": ["发个付款链接给我", "我的卡被停用了，还能用支付宝还吗"],
        "balance_question": ["还差多少没还完"],
        "dispute": ["利息算错了吧，和合同不一样"],
        "hardship": ["生病住院了，没法上班"],
        "extension": ["能多给我一周吗"],
        "talk_to_human": ["找个真人跟我说"],
        "complaint": ["你们的人态度太差了"],
        "wrong_person": ["这个号我上个月才买的，不认识这个人"],
        "already_paid": ["上午已经转账了"],
        "payment_plan": ["能分十二期吗"],
    },
    "zh-Hant": {
        "stop": [
            "請停止發送簡訊至本號碼",
            "唔好再打電話嚟啦",
            "請將我從發送名單中移除",
            "本人要求停止所有催收來電",
            "別再聯絡我了",
            "不要再傳訊息給我",
            "請勿致電",
            "取消所有簡訊通知",
            "我唔想再收你哋嘅短訊",
            "以後唔使再send嘢俾我",
            "請不要再打來公司",
            "拒收此類訊息",
            "回覆N退訂",
            "停止推送",
            "唔該停止聯絡我",
            "請勿再傳送訊息到這個電話",
            "麻煩把我移出你們的名單",
        ],
        "vulnerable": [
            "頭先食咗成板必理痛",
            "我吞咗好多粒安眠藥",
            "我已經將身後事交代好",
            "遺囑寫好咗，放喺櫃桶",
            "同大家講聲拜拜，多謝照顧",
            "我買咗炭，今晚就會了結",
            "活落去冇意思",
            "每日都諗點樣結束",
            "用刀鎅手先會舒服啲",
            "佢話要殺咗我，我唔敢返屋企",
            "我老竇成日打我同阿媽",
            "我打算去海邊，唔會再返嚟",
            "覺得自己好無用，死咗好過",
            "已經將隻狗託咗朋友照顧",
            "喝了一瓶除草劑",
            "我把帳戶密碼都交給妹妹了，以後她用得著",
            "吃了整盒普拿疼",
        ],
        "other": [
            "部電話就快冇電",
            "打機打到死咗幾次",
            "熱到死，聽日再講",
            "我死黨今日生日",
            "我順路經過分行停一陣",
            "巴士停駛，遲啲到",
        ],
        # "my card was stopped, how do I pay" is pay_now, as in the other two languages (first
        # written under "other" by a slip, moved after the first measure: docs/assistant.md)
        "pay_now": ["俾條付款連結我", "張卡被停用咗，點樣還款"],
        "balance_question": ["我仲差幾多未還"],
        "dispute": ["利息計錯咗"],
        "hardship": ["我病咗入院，冇得返工"],
        "extension": ["可以俾多一個禮拜我嗎"],
        "talk_to_human": ["搵個真人同我講"],
        "complaint": ["你哋啲職員好無禮"],
        "wrong_person": ["呢個號碼我上個月先買"],
        "already_paid": ["朝早已經過咗數"],
        "payment_plan": ["可唔可以分十二期"],
    },
    "en": {
        "stop": [
            "STOP ALL MESSAGES",
            "Please stop.",
            "cancel my subscription to these texts",
            "remove this number from your mailing list",
            "take me off your mailing list",
            "I do not consent to further contact",
            "please cease all communication with me",
            "no more calls or texts please",
            "quit texting me",
            "I want to opt-out of all messages",
            "stop contacting me by phone",
            "do not call me at work again",
            "I said STOP",
            "don't message me anymore",
            "please stop all communications to this number",
            "revoke consent",
            "you need to stop texting me",
            "stop sending texts to this phone",
            "I'd like to stop receiving these reminders",
            "please do not phone me again",
        ],
        "vulnerable": [
            "took a whole bottle of tylenol an hour ago",
            "I swallowed a handful of xanax",
            "downed all my sertraline",
            "just took 30 paracetamol",
            "I've written my will and left my bank passwords for my sister",
            "I've put my affairs in order",
            "thank you for everything, goodbye everyone",
            "I bought a rope today",
            "I have a plan and I have the means",
            "there's nothing to look forward to anymore",
            "I keep cutting my arms to feel something",
            "my ex said he is going to kill me and he's outside",
            "my stepdad hurts me when he's drunk",
            "my family would be better off with the insurance money",
            "I'm going to the lake tonight and I'm not coming back",
            "I'm worthless, there's no point to any of this",
            "gave my dog to a friend, she'll have a better home",
            "I don't want to be alive anymore",
            "I've been looking up how many pills it takes",
            "life insurance will cover the debt once I'm gone",
        ],
        "other": [
            "my phone is about to die, will call back",
            "I nearly died laughing at your ad",
            "I'll stop in at the office tomorrow",
            "the bus stopped running so I'm late",
            "the plant on my desk is dying",
            "that new app update is killer",
            "what are your opening hours",
            "thanks, have a good day",
        ],
        "pay_now": ["what's the fastest way to pay", "my card was stopped, how else can I pay"],
        "balance_question": ["what's my outstanding balance", "how much is left on my loan"],
        "dispute": ["I'm being charged interest I never agreed to"],
        "hardship": ["my hours were cut in half and I can't cover rent"],
        "extension": ["can I get a few extra weeks"],
        "talk_to_human": ["get me a manager please"],
        "complaint": ["your agent threatened to tell my employer"],
        "wrong_person": ["there's no Maria here, wrong number"],
        "already_paid": ["I paid it off through the app on Monday"],
        "payment_plan": ["could I do six monthly payments"],
    },
}


def main() -> None:
    write_set(
        "4",
        LINES,
        zones=ZONES,
        known=[DATA / name for name in ("messages.jsonl", "unseen2.jsonl", "unseen3.jsonl")],
        base=datetime(2026, 11, 16, 8, 0),  # noqa: DTZ001 (a wall time, given each language's zone)
    )


if __name__ == "__main__":
    main()
