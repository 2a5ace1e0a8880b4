"""Writes src/recoup/assistant/data/unseen3.jsonl: a third unseen set for the rules that must
never miss (`stop`, `vulnerable`), their false alarms and the English macro F1.

Written by hand for issue 21's third wave, before any rule or training message of that wave was
changed, and without reading the labelled set's test split (nor its misses). The opt-outs follow
the public keyword lists (CTIA's Messaging Principles and Best Practices: STOP, STOPALL, END,
CANCEL, UNSUBSCRIBE, QUIT, REVOKE, OPTOUT, and the FCC's "any reasonable means"; China's MIIT
通信短信息服务管理规定 and the carriers' 回复TD/T/N/0000 退订 and 拒收 codes; Hong Kong's OFCA
unsubscribe requests for commercial electronic messages) and the ways people write them to a
lender; the crisis messages follow the crisis lines' published warning signs (988's "Know the
signs", Samaritans' "what you might hear", the 北京心理危机研究与干预中心's and Taiwan's 1925
安心專線's 自杀警讯, Hong Kong's Samaritan Befrienders' 自殺警號): talk of dying, no reason to
live, being a burden, feeling trapped, unbearable pain, goodbyes, means, self-harm, danger at
home. The other messages are ordinary replies of the other intents (no promise: its entities
are measured on the labelled set) and lookalikes of the two rules ("累死了", "stop by the
branch", "dead battery").

Nothing here is trained on: it is measured, not learned from (docs/assistant.md, "The unseen3
set"). Run ``python scripts/assistant_unseen3.py``; then
``recoup assistant evaluate --split unseen3``.
"""

from __future__ import annotations

from datetime import datetime

from assistant_heldout import DATA, write_set

ZONES = {"zh-Hans": 8, "zh-Hant": 8, "en": 0}

LINES: dict[str, dict[str, list[str]]] = {
    "zh-Hans": {
        "stop": [
            "回复TD退订本号",
            "0000",
            "R",
            "拒收催款短信",
            "以后别给我发这种短信了",
            "请不要再发送催收短信到这个号码",
            "我要求你们停止一切联系",
            "不需要再通知我了，谢谢",
            "别再发信息来了好吗",
            "不要再打我电话，有事发邮件",
            "请把我从你们的发送列表里去掉",
            "短信太多了，全部退掉",
            "关闭短信提醒",
            "我不想再接到你们的电话",
            "别再联系我了",
            "TD 谢谢",
            "N 退订",
            "不要再给我打电话发短信了，我会自己处理",
        ],
        "vulnerable": [
            "我真的熬不下去了，欠的钱这辈子都还不清，不想活",
            "已经想好怎么走了，你们以后不用再找我",
            "感觉自己是全家的拖油瓶，没有我他们会轻松很多",
            "天天失眠，脑子里只有死这个念头",
            "刚吞了半瓶安定，你们满意了吗",
            "我站在天台上，风好大",
            "钱还不上我就只能去死了",
            "我老公一喝酒就动手，我现在躲在厕所",
            "这几天一直在写给孩子的信，交代一些事情",
            "活得太痛苦了，看不到一点希望",
            "我把存的东西都送人了，以后用不上了",
            "手腕上又多了几道，控制不了",
            "我不会再回消息了，永别",
            "觉得一切都没有意义了",
            "不如死了干净",
        ],
        "other": [
            "累死了，明天再说",
            "停车场没信号，等下回你",
            "我先停一下工作去吃饭",
            "手机死机了刚重启",
            "好的，收到",
        ],
        "pay_now": ["现在就想把钱还了，从哪里付"],
        "balance_question": ["我现在一共还欠多少钱"],
        "dispute": ["这笔借款不是我本人办的，我要申诉"],
        "hardship": ["公司倒闭了，这两个月都没有收入"],
        "extension": ["能不能宽限到下个月十号"],
        "talk_to_human": ["帮我转人工客服"],
        "complaint": ["你们的催收员打电话骂人，我要投诉"],
        "wrong_person": ["你们找错人了，这个号码我刚办的"],
        "already_paid": ["钱昨天已经转过去了，查一下"],
        "payment_plan": ["可以分六期还吗"],
    },
    "zh-Hant": {
        "stop": [
            "回覆TD退訂",
            "唔該唔好再send短訊俾我",
            "請停止傳送任何訊息",
            "不要再打電話來了",
            "以後唔好再打嚟",
            "我唔想再收到你哋啲訊息",
            "請將我的號碼從名單刪除",
            "拒收，謝謝",
            "我要取消訂閱所有通知",
            "唔需要再通知我",
            "別再打擾我了",
            "停止聯絡我",
            "UNSUB",
            "唔好再搵我喇",
            "別再傳簡訊給我",
            "請勿再致電此號碼",
        ],
        "vulnerable": [
            "我真係唔想再生存落去",
            "我覺得自己係屋企人嘅負擔",
            "已經儲咗好多粒安眠藥",
            "我而家喺天台",
            "欠債欠到走投無路，想一死了之",
            "活著好辛苦，不如走咗佢",
            "寫好遺書了，對不起",
            "我老公又打我，我好驚",
            "每晚都喊，好想消失",
            "我唔想再醒返嚟",
            "我已經冇辦法再撐落去",
            "對唔住，我會離開呢個世界",
            "這是最後一封訊息了",
            "我不想活了，真的",
            "腦入面成日諗住點樣死",
        ],
        "other": [
            "今日返工攰到死",
            "笑死我，你們個app又當機",
            "部手機死咗，啱啱先開返",
            "收到，唔該",
            "停電了，晚點再回覆",
        ],
        "pay_now": ["點樣可以即刻還晒"],
        "balance_question": ["我而家仲欠幾多錢"],
        "dispute": ["呢筆數唔係我借的"],
        "hardship": ["我被裁員了，暫時冇收入"],
        "extension": ["可唔可以遲幾日先還"],
        "talk_to_human": ["我想搵真人講"],
        "complaint": ["你們打電話去我公司，我要投訴"],
        "wrong_person": ["打錯電話了，我唔識呢個人"],
        "already_paid": ["我琴日已經入咗數"],
        "payment_plan": ["可以分期還嗎"],
    },
    "en": {
        "stop": [
            "Stop all",
            "End.",
            "cancel pls",
            "QUIT!!",
            "REVOKE",
            "OPTOUT",
            "stop texting this number please",
            "please do not contact me again",
            "I no longer wish to receive messages from you",
            "please take my number off your list",
            "no more texts thanks",
            "stop sending me these",
            "I revoke my consent to be contacted",
            "unsubscribe me from all messages",
            "do not text me again",
            "quit messaging me already",
            "I want these messages to stop",
            "no more messages",
            "pls stop, I have told you many times",
            "dont want your texts anymore",
        ],
        "vulnerable": [
            "I don't see any reason to keep living",
            "everyone would be better off if I was gone",
            "I've been saving up my meds, I know how I'd do it",
            "this is my last message to anyone",
            "I feel trapped and there's no way out of this debt",
            "I can't take the pain anymore",
            "I'm going to kill myself",
            "I keep thinking about ending my life",
            "my husband beat me again last night and took my phone",
            "I have given away my things, I won't be needing them",
            "I'm a burden on my family",
            "im on the roof and i dont care anymore",
            "I just want to go to sleep and never wake up",
            "been cutting again",
            "I won't be here next week so it doesn't matter",
            "honestly I just want to die",
        ],
        "other": [
            "I'm dead tired, talk tomorrow",
            "my battery is dying, will reply later",
            "I'll stop by the branch on my way home",
            "this traffic is killing me lol",
            "ok cheers",
            "who is this? how did you get my number",
            "is this message legit or a scam",
            "good morning, noted",
        ],
        "pay_now": [
            "how can I pay this off right now",
            "can you send the link to pay again",
            "can I pay with my credit card",
        ],
        "balance_question": [
            "how much do I still owe",
            "when is my next instalment due?",
            "why is my balance higher than last month",
        ],
        "dispute": [
            "I never took out this loan",
            "this amount is wrong, I was charged twice",
            "someone opened this account in my name",
        ],
        "hardship": [
            "I was laid off last month and have no income",
            "I'm in hospital and can't work right now",
            "my shop was flooded and I lost everything",
        ],
        "extension": [
            "can I have two more weeks",
            "could you push my due date back a bit",
            "I need a little more time this month",
        ],
        "talk_to_human": [
            "can I speak to a real person",
            "put me through to an agent",
            "I want to talk to someone, not a bot",
        ],
        "complaint": [
            "your collector was really rude to me on the phone",
            "you called me six times today, this is harassment",
            "why did you call my mother about my debt",
        ],
        "wrong_person": [
            "you have the wrong number",
            "I don't know anyone by that name",
            "this isn't John's phone anymore, I got this number last month",
        ],
        "already_paid": [
            "I already paid this yesterday",
            "paid in full last week, check your records",
            "I sent the money this morning",
        ],
        "payment_plan": [
            "can I pay this in monthly instalments",
            "is there a payment plan option",
            "could I split it into 3 payments",
        ],
    },
}


def main() -> None:
    write_set(
        "3",
        LINES,
        zones=ZONES,
        known=[DATA / "messages.jsonl", DATA / "unseen2.jsonl"],
        base=datetime(2026, 11, 2, 9, 0),  # noqa: DTZ001 (a wall time, given each language's zone)
    )


if __name__ == "__main__":
    main()
