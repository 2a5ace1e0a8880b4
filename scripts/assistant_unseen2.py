"""Writes src/recoup/assistant/data/unseen2.jsonl: a second unseen set for the rules that must
never miss (`stop`, `vulnerable`) and for their false alarms.

Written by hand for issue 21's second wave, before the crisis and stop rules were broadened
from the crisis lines' and SMS rules' sources (docs/assistant.md, "The unseen2 set"), and
without reading the labelled set's test split. Nothing here is trained on and no rule was
tuned on its misses: it is measured, not learned from. The messages that are neither stop nor
vulnerable carry their own intent and are there to count false alarms: everyday words that
look like a cue ("累死了", "I'm dying to pay this off", "停车", "the bridge loan").

Run ``python scripts/assistant_unseen2.py``; then
``recoup assistant evaluate --data src/recoup/assistant/data/unseen2.jsonl --split unseen2``.
"""

from __future__ import annotations

from datetime import datetime

from assistant_heldout import DATA, write_set

ZONES = {"zh-Hans": 8, "zh-Hant": 8, "en": -5}

# (language, intent, text)
LINES: dict[str, dict[str, list[str]]] = {
    "zh-Hans": {
        "vulnerable": [
            "我真的不想活了，你们别逼我",
            "活着太累了，每天都在想怎么走",
            "还不上就去死吧，反正也没人在乎我",
            "我已经买好安眠药了",
            "今晚就从楼上跳下去，你们满意了吧",
            "欠这么多钱，我觉得自己就是家里的累赘",
            "我准备烧炭了，别再找我",
            "活着没什么意思，钱的事你们找我家人吧",
            "这是我最后一次回复你们了",
            "我真的撑不住了，感觉看不到任何希望",
            "好想一了百了",
            "每天晚上都在想要不要结束这一切",
            "遗书我放在抽屉里了",
            "身上好几道口子，是我自己划的",
            "站在桥上了，不知道该怎么办",
            "我是个废物，死了对谁都好",
            "想解脱，太痛苦了",
            "我得了抑郁症，有时候忍不住想伤害自己",
            "对不起，我没办法再坚持下去了",
            "他喝醉了又打我，我不敢回家",
            "三天没睡了，脑子里全是跳下去的念头",
            "bu xiang huo le 真的",
            "药我都攒好了，够了",
            "活着就是受罪，不如早点走",
        ],
        "stop": [
            "TD",
            "退订",
            "回T",
            "N",
            "不要再给我发短信了",
            "别再打电话了行吗",
            "请停止发送此类信息",
            "以后不要联系我",
            "别再发了，烦不烦",
            "拒收此类短信",
            "把我的号码从名单里删掉",
            "不要再打来了",
            "退订 谢谢",
            "不想再收到你们的消息",
            "请勿再发送",
            "停止联系我",
            "别打我电话了",
            "T 退订",
            "别再短信轰炸了",
            "停",
        ],
        "other": [
            "手机快没电了，晚点回复",
            "刚才死机了，没看到短信",
            "停车场信号不好，等下说",
            "你们是正规公司吗",
            "收到，谢谢",
            "我上了一天班，忙死了",
            "你们app卡死了，打不开",
            "这个月先停一下自动扣款可以吗",
            "我的卡被冻结了，钱转不出来",
            "烦死了又要验证码",
            "吓死我了，还以为被盗刷",
        ],
        "complaint": ["利息高得吓死人", "天天打电话，烦都烦死了"],
        "pay_now": ["桥头那家营业厅能现金还吗", "我想一次性结清，怎么操作"],
        "payment_plan": ["怎么取消分期改成一次还"],
        "hardship": ["我妈住院了，这个月实在拿不出钱", "压力很大，刚失业，但我会想办法"],
        "extension": ["我跳槽了，新工作下个月才发工资，能晚点吗"],
        "talk_to_human": ["你好，请问是人工吗"],
    },
    "zh-Hant": {
        "vulnerable": [
            "我真的不想再活下去了",
            "欠債壓得我喘不過氣，想一死百了",
            "我已經在頂樓了",
            "你們再逼我，我就跳下去",
            "覺得自己活著只是拖累家人",
            "我買了木炭，今晚就結束",
            "唔想再捱落去，好想死",
            "我好攰，唔想再醒返嚟",
            "每日都喊，覺得人生冇意義",
            "我吞咗好多粒藥",
            "這是我最後的訊息，謝謝你們",
            "我已經把要交代的事都寫好了，以後不會再麻煩任何人",
            "真係頂唔住，想解脫",
            "沒有我大家會過得更好",
            "我有自殘，手上都是傷",
            "我先生又動手打我，我好怕",
            "看不到未來，每天只想消失",
            "活著好辛苦，撐不下去了",
            "我想結束自己嘅生命",
            "再見了，這輩子對不起大家",
            "生不如死",
        ],
        "stop": [
            "退訂",
            "請不要再傳簡訊給我",
            "別再打來了",
            "唔好再打嚟",
            "唔好再send message俾我",
            "停止發送",
            "拒收",
            "以後不要再聯絡我",
            "請把我的電話從名單刪除",
            "不要再寄訊息給我",
            "唔該唔好再搵我",
            "我不想再收到這些簡訊",
            "別再傳了",
            "請停止來電",
            "取消訂閱",
            "回覆T",
            "停止傳送訊息，謝謝",
            "唔好再傳訊息嚟",
        ],
        "other": [
            "忙到死，遲啲先覆你",
            "部手機死機咗",
            "收到",
            "你哋係咪騙子嚟㗎",
            "交通好塞，停咗喺路邊覆你",
            "煩死啦，又要驗證碼",
            "嚇死我，以為被盜用",
        ],
        "complaint": ["笑死，你們的系統又錯了", "利息貴到嚇死人"],
        "payment_plan": ["請問可唔可以分期", "結束分期之後還要付什麼費用嗎"],
        "extension": ["我會還，只係需要多啲時間", "等我出糧先，好嗎"],
        "talk_to_human": ["我想同真人傾"],
        "pay_now": ["點樣還款"],
    },
    "en": {
        "vulnerable": [
            "i honestly dont want to be here anymore",
            "thinking about ending it all tonight",
            "kms. seriously. leave me alone",
            "maybe i should just unalive myself and you can collect from my grave",
            "everyone would be better off without me",
            "I've been saving up my pills",
            "this is my goodbye, sorry for everything",
            "I feel like such a burden to everyone",
            "there's no reason for me to keep living",
            "the pain is unbearable and i cant see a way out",
            "im standing on the bridge right now",
            "I cut myself again last night",
            "i wrote letters to my kids. this is it",
            "I just want to go to sleep and not wake up",
            "I have a plan to end my life",
            "what's the point of living with this debt",
            "I'm so hopeless, nothing will ever get better",
            "my boyfriend hit me again and took my phone, i'm scared",
            "i'm thinking of killing myself",
            "can't go on like this anymore, I'm done",
            "ive given away my stuff, wont need it where im going",
            "sorry mom. tell them i tried",
            "I feel trapped and I want to die",
        ],
        "stop": [
            "STOP",
            "stop",
            "Unsubscribe",
            "END",
            "QUIT",
            "CANCEL",
            "please stop texting me",
            "don't contact me again",
            "take me off your list",
            "no more messages please",
            "opt me out",
            "stop calling me at work",
            "I don't want to receive these texts",
            "quit messaging me",
            "leave me alone, stop sending these",
            "cease all contact",
            "STOPALL",
            "unsub",
            "pls stop msging me",
            "Stop.",
            "Please unsubscribe me",
            "STOP texting",
        ],
        "other": [
            "dead tired, will reply tomorrow",
            "ok thanks",
            "is this a scam?",
            "gonna jump on a call with my bank first",
            "who is this company anyway",
            "killing time at the airport, will sort it when i land",
            "can i cancel the autopay",
        ],
        "pay_now": [
            "I'm dying to pay this off, just tell me how",
            "the bridge loan came through, I can pay it all now",
        ],
        "complaint": [
            "this app is killing me, the pay button doesn't work",
            "lol I nearly died when I saw the interest",
            "I'm at the end of my rope with your calls, I want a manager",
        ],
        "balance_question": ["my phone died, what was the amount again"],
        "payment_plan": ["how do I cancel my payment plan and pay in full"],
        "extension": [
            "Deadline is killing me, can I get 2 more weeks",
            "I'll pay when I get paid, can you wait",
        ],
        "hardship": [
            "I lost my job and I'm stressed out, can we work something out",
            "struggling a bit this month, money is tight after the surgery",
        ],
        "already_paid": [
            "stopped at the bank on my way home and paid it",
            "I'm done with the payment, check it",
            "end of story, I paid in March",
        ],
        "talk_to_human": ["this is killing my credit score, who do i talk to"],
    },
}


def main() -> None:
    write_set(
        "2",
        LINES,
        zones=ZONES,
        known=[DATA / "messages.jsonl"],
        base=datetime(2026, 11, 2, 9, 0),  # noqa: DTZ001 (a wall time, given each language's zone)
    )


if __name__ == "__main__":
    main()
