"""Writes the sixth unseen set, `src/recoup/assistant/data/unseen6.jsonl` (issue 21).

Who, when, how: written on 2026-12-07 (UTC) by a helper session that is a different author from the
one who wrote the assistant's rules, cues, training messages, model and earlier unseen sets, and was
blind to all of them: it did not open the assistant's data files, model, cues, understanding or
classifier modules, their scripts, their docs or their tests, and it did not run the classifier
or the project's entity parsers on these messages. Every message below is typed by hand, as
debtors of a Chinese digital wallet's BNPL, credit-line and micro-loan products reply to reminders
(SMS, push, in-app, e-mail, calls), in Simplified Chinese (mainland), Traditional Chinese (Hong Kong
with Cantonese, and Taiwan) and English; and every label (intent, amount, date) is the author's own,
given by reading the message as a careful human labeller would.

The set: 14 intents x 3 languages x 12 messages = 504 lines as written, each with `id`
(`u6-<language>-<intent>-NNN`, numbered in the order written here, with the author's intent),
`text`, `at`, `language`, `intent`, `amount_minor`, `date` and `split` ("unseen6"). After the
relabelling below an id keeps the author's intent even where the label changed, and a (language,
intent) cell holds from 11 to 13 messages.

`at`: typed here as "MM-DD HH:MM", read in +08:00; November and December are 2026's, January is
2027's (the set spans 2026-11-01 to 2027-01-31, at all hours).

Conventions for a promise's entities (resolved by hand against the message's own `at`):
- `amount_minor` is yuan (or HK$) x 100: 500 -> 50000, "1.5k" -> 150000, "五百" -> 50000.
- `date` (YYYY-MM-DD): a weekday ("周五", "Friday", "this Friday") is the next such day strictly
  after today; "下周五"/"next Friday" is that weekday of the next calendar week (weeks start on
  Monday); "这周五/本周五" this calendar week's; "周末/this weekend" the coming Saturday;
  "月底/end of the month" the month's last day; "下月初/early next month" the 1st of next month;
  "月中/mid-month" the 15th; "15号/the 15th" the next such day on or after today; "12月20日/Dec 20"
  this year's unless more than 30 days ago, then next year's; "3天后/in 3 days" today + 3; "过两天"
  today + 2; "一周后/in a week" today + 7; "发工资后/出粮/after payday/when I get paid" the next
  15th on or after today; "明天/聽日/tmr" + 1, "后天" + 2.
- Every promise has a date; most have an amount. Other intents carry neither.

Labelling choices: a message asking to stop contact is `stop` even when it gives a reason, unless
it is chiefly about mistreatment (`complaint`); an identity or number mix-up is `wrong_person`; a
debt said to be not theirs, wrong or settled otherwise is `dispute`; strong everyday words ("累死了",
"this is killing me", "攰到死") do not make a message `vulnerable`: it is labelled by what it asks.
Each message's language can be told from its text (a Simplified- or Traditional-only character,
Cantonese, or English), save the bare "TD", the mainland's SMS opt-out, labelled zh-Hans. The set
was reviewed once as a labeller (every intent, and every promise's date against its `at` and
weekday); the Chinese messages were run through OpenCC's s2t/t2s conversions (in a throwaway
environment, not a project dependency) to find those a script could not place, which were reworded.

Relabelled on 2026-12-07 (UTC) by a second helper, blind to the model (it did not run the classifier
or the entity parsers, nor open the assistant's other data, model, cues, docs or tests), by the
conventions of docs/assistant.md "Which intent, when two fit", as quoted in its brief: 1
`vulnerable` wins over everything; 2 `wrong_person` wins over `stop`; 3 `stop` wins over the rest
(any request to stop contacting the debtor, on one channel or at all, even with a reason, a payment
or anger; "别催了"/"don't rush me" are not one); 4 contact with other people is a `complaint`, not a
stop; 5 a request wins over the reason given for it; 6 an amount and a day make a `promise_to_pay`,
a day without an amount asking for time is `extension`, paying now or asking how is `pay_now`; 7
says they paid: `already_paid`, contests the debt or says it was settled by an agreement: `dispute`;
8 questions about a payment made are `already_paid`, a number to call is `talk_to_human`, questions
about what is owed or an existing plan are `balance_question`, asking for a plan is `payment_plan`;
9 the rest is `other`. Every message was read again against these rules; where a message stays
ambiguous under them the author's label is kept. The changes are in `RELABELLED` (by id; the text,
id and time untouched, a promise that stops being one loses its amount and date), and by
(from -> to) pair they are:
- promise_to_pay -> stop: 2 (a promise that also asks us to stop calling, rule 3)
No other label changed (502 of 504 kept).

The script checks its own invariants (every intent and language has at least 8 messages: relaxed
from exactly 12 by the relabelling; unique ids and texts, a real date on every promise and none
elsewhere, times in the window, every relabelled id present with its author's intent) and refuses
to write otherwise.

Run: PYTHONPATH=src python scripts/assistant_unseen6.py
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "recoup" / "assistant" / "data" / "unseen6.jsonl"
SPLIT = "unseen6"
# The 14 intents of the brief (typed here, not imported, so that this set reads nothing of the
# assistant's modules).
INTENTS = (
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
LANGUAGES = ("zh-Hans", "zh-Hant", "en")
MIN_PER_CELL = 8  # relaxed from exactly 12 by the relabelling
MIN_AMOUNTS = 9  # promises with an amount, per language
FIRST = dt.date(2026, 11, 1)
LAST = dt.date(2027, 1, 31)
ZONE = dt.timezone(dt.timedelta(hours=8))

# (language, intent, text, at, amount_minor, date)
Row = tuple[str, str, str, str, int | None, str | None]


def _at(short: str) -> str:
    """ "11-03 07:12" as an ISO time in +08:00 (November and December: 2026; January: 2027)."""
    day, clock = short.split()
    month = int(day[:2])
    year = 2027 if month == 1 else 2026
    return f"{year}-{day}T{clock}:00+08:00"


def _plain(language: str, intent: str, lines: list[tuple[str, str]]) -> list[Row]:
    return [(language, intent, text, _at(at), None, None) for text, at in lines]


def _promises(language: str, lines: list[tuple[str, str, int | None, str]]) -> list[Row]:
    return [
        (language, "promise_to_pay", text, _at(at), amount, date)
        for text, at, amount, date in lines
    ]


HANS = "zh-Hans"
HANT = "zh-Hant"
EN = "en"

MESSAGES: list[Row] = [
    # == zh-Hans ================================================================================
    *_plain(
        HANS,
        "pay_now",
        [
            ("怎么还款？给个链接", "11-02 08:31"),
            (
                "你好，看到短信说我逾期了，不好意思最近太忙忘了，现在想马上把这期还上，请问在app哪个页面操作？",
                "11-09 22:14",
            ),
            ("还款入口在那 app里找了半天没找到", "11-17 12:05"),
            ("可以用微信还吗？支付宝里没钱了", "11-24 19:48"),
            ("马上还，link发我一下", "12-01 07:02"),
            ("能直接从我钱包余额里扣吗 现在扣就行", "12-08 13:37"),
            ("想一次性结清，怎么弄", "12-15 23:51"),
            ("银行卡转账可以吗？给个对公账户", "12-22 10:20"),
            ("还款码发我一下谢谢🙏", "01-03 16:44"),
            ("我要还钱 但是付款页面一直转圈 怎么办", "01-11 21:09"),
            ("xz想hk 咋弄 给个链接", "01-19 01:26"),
            ("加班累死了 刚看到短信 现在怎么还", "01-28 23:58"),
        ],
    ),
    *_promises(
        HANS,
        [
            ("明天下午还500块", "11-03 09:14", 50000, "2026-11-04"),
            ("这周五还1200，到时候别再打电话了", "11-10 21:40", 120000, "2026-11-13"),
            ("下周三之前我转两千过去", "11-19 08:05", 200000, "2026-11-25"),
            ("月底一定还清 3000", "12-02 23:48", 300000, "2026-12-31"),
            ("15号先还八百，剩下的再想办法", "12-16 12:30", 80000, "2027-01-15"),
            ("过两天还你们1500 行把", "01-06 07:20", 150000, "2027-01-08"),
            ("等发工资了我就还2k", "11-20 19:02", 200000, "2026-12-15"),
            ("3天后还款，金额678.5", "12-29 10:10", 67850, "2027-01-01"),
            ("1月10号还2500 说话算话", "12-22 15:45", 250000, "2027-01-10"),
            ("后天还 先还个三百 手头就这么多", "01-18 22:15", 30000, "2027-01-20"),
            ("下月初我把欠的都还了", "11-26 13:00", None, "2026-12-01"),
            ("周末一定还上，放心吧", "01-13 18:30", None, "2027-01-16"),
        ],
    ),
    *_plain(
        HANS,
        "payment_plan",
        [
            ("能分期还吗", "11-01 10:12"),
            ("一次性还不上，能不能分3期", "11-07 06:40"),
            ("可以每个月还500吗 分几个月还完", "11-14 20:33"),
            ("申请分期，谢谢", "11-23 09:55"),
            ("我想办个还款计划，每周还一点行不行", "12-03 14:18"),
            ("能不能分成6个月还 利息能少点吗", "12-11 22:47"),
            ("fq还款可以吗", "12-19 00:36"),
            (
                "我现在一次性确实拿不出4800，但也不想一直逾期下去，能不能申请每个月还一部分，大概分4到6个月？",
                "12-27 17:03",
            ),
            ("能做个installment plan吗 一下子拿不出这么多", "01-05 11:29"),
            ("你们有没有那种分期方案 我想按月还", "01-14 08:16"),
            ("每个月发工资还一部分，分半年还清行吗", "01-22 19:41"),
            ("可以先还一部分 剩下的分期吗", "01-30 05:50"),
        ],
    ),
    *_plain(
        HANS,
        "extension",
        [
            ("能不能宽限几天", "11-04 18:22"),
            ("申请展期", "11-12 09:03"),
            ("再给我点时间吧，最近手头有点紧", "11-21 23:15"),
            ("还款日能往后推一下吗", "11-29 12:40"),
            ("可以延期还款吗？延一个月", "12-06 07:58"),
            ("能不能晚几天还 不想算逾期", "12-13 21:31"),
            ("求宽限一周 行不行", "12-21 02:44"),
            ("展期要什么条件 我想办", "12-30 15:07"),
            ("最后还款日能不能改一下 延后十天", "01-07 10:26"),
            ("我在外地出差 回来再还 能等我吗", "01-15 20:12"),
            ("宽限几天呗 求求了🙏🙏", "01-23 13:49"),
            ("工资晚发了 能缓几天吗", "01-31 06:35"),
        ],
    ),
    *_plain(
        HANS,
        "already_paid",
        [
            ("已还", "11-02 20:10"),
            ("我昨天已经还了啊 怎么还在催", "11-08 09:27"),
            ("钱已经转过去了 你们查一下", "11-16 15:52"),
            ("早就还清了 截图发你", "11-25 22:03"),
            ("刚刚还了800 查收", "12-04 11:38"),
            ("我前天用支付宝还款成功了，怎么还显示逾期", "12-12 08:45"),
            ("已经结清了 麻烦核实一下", "12-20 18:14"),
            ("付过了付过了", "12-28 23:39"),
            ("上周就还了 有流水", "01-04 07:11"),
            ("还了，银行卡已经扣款", "01-12 16:57"),
            ("老公帮我还了 你们看下到账没", "01-20 12:22"),
            ("已经hk了 看下记录", "01-29 03:05"),
        ],
    ),
    *_plain(
        HANS,
        "balance_question",
        [
            ("我还欠多少", "11-05 07:44"),
            ("怎么会这么多 能给我列一下明细吗", "11-13 19:19"),
            ("什么时候到期", "11-22 10:02"),
            ("逾期费是怎么算的", "11-30 21:56"),
            ("总共要还多少钱 包括利息", "12-07 13:13"),
            ("这笔是哪个订单的？", "12-14 16:31"),
            ("最后还款日是哪天", "12-23 08:08"),
            ("把账单明细发我看看", "12-31 22:27"),
            ("现在还清的话要多少", "01-08 09:40"),
            ("balance还剩多少 查下", "01-16 18:53"),
            ("利息这么高？怎么算出来的", "01-24 00:18"),
            ("这期最低还多少", "01-27 14:36"),
        ],
    ),
    *_plain(
        HANS,
        "dispute",
        [
            ("这笔我根本没借过", "11-03 17:25"),
            ("我没买过这个东西 不是我消费的", "11-11 08:49"),
            ("金额不对，我只借了2000", "11-18 22:30"),
            ("这个账我早就跟你们客服协商结清了，有聊天记录", "11-27 11:11"),
            ("我账号被盗了 这些消费都不是我的", "12-05 19:46"),
            ("订单已经退货退款了 为什么还要我还", "12-10 14:02"),
            ("利息算错了吧 合同上不是这么写的", "12-18 09:34"),
            ("这笔重复扣款了 我不认", "12-26 21:20"),
            ("我已经跟商家退款了 这钱不该我出", "01-02 12:57"),
            ("这不是我的借款 我从来没开通过月付", "01-10 07:33"),
            ("你们多收了我200 这部分我不会还", "01-18 16:16"),
            ("身份证被人冒用借的 这钱跟我没关系", "01-26 23:42"),
        ],
    ),
    *_plain(
        HANS,
        "hardship",
        [
            ("我失业了😭 现在真的没钱还 不是不想还", "11-06 21:18"),
            ("住院了 刚做完手术 没有收入", "11-14 06:52"),
            ("公司倒闭了 工资都没拿到 还不上", "11-22 15:40"),
            ("家里老人病重，钱全花在医院了", "11-30 08:29"),
            ("店铺关门了 生意做不下去 实在没钱", "12-07 23:03"),
            ("被裁员三个月了 一直没找到工作", "12-15 10:47"),
            ("老家发洪水 房子都淹了 哪有钱还", "12-24 19:12"),
            ("我怀孕了现在不能上班，没有收入来源", "01-01 13:25"),
            ("出车祸了腿骨折 躺床上干不了活", "01-09 17:58"),
            ("现在一个月就两千块低保 吃饭都不够", "01-17 07:37"),
            ("老公走了 一个人带孩子 根本还不起", "01-25 22:11"),
            ("这个月被降薪一半 房租都交不起 天天加班累死了", "01-31 20:49"),
        ],
    ),
    *_plain(
        HANS,
        "stop",
        [
            ("退订", "11-01 12:00"),
            ("TD", "11-08 18:06"),
            ("别再给我打电话了", "11-15 09:41"),
            ("烦死了 别再发短信了！！！", "11-23 22:58"),
            ("取消订阅", "12-01 16:20"),
            ("以后别打电话联系我了 有事发邮件", "12-09 11:14"),
            ("别打了 一天十几个电话 停一下行不行", "12-17 08:32"),
            ("别再打我单位电话了", "12-25 14:45"),
            ("STOP!!! 别再发了", "01-02 03:17"),
            ("请停止一切催收联系", "01-12 10:53"),
            ("拒收 谢谢", "01-21 19:28"),
            ("不要再推送了 把通知关了", "01-29 21:07"),
        ],
    ),
    *_plain(
        HANS,
        "wrong_person",
        [
            ("你们打错了 我不是这个人", "11-04 10:33"),
            ("这个号码早就不是他的了 换号了", "11-12 20:21"),
            ("我不认识张伟", "11-20 07:10"),
            ("发错人了吧", "11-28 15:36"),
            ("我是新办的号 不认识你们说的人", "12-06 12:48"),
            ("不是本人 号码是别人给的吧", "12-14 22:09"),
            ("你找的人不是我 我姓李 不姓张", "12-22 08:57"),
            ("打错电话了，这里没有叫王芳的", "12-30 17:42"),
            ("我不是机主本人 机主是我前室友 早搬走了", "01-07 21:24"),
            ("这个邮箱不是他的", "01-15 11:02"),
            ("查无此人", "01-23 09:15"),
            ("这是我的号码，不是刘洋的，你们登记错了吧", "01-30 16:30"),
        ],
    ),
    *_plain(
        HANS,
        "talk_to_human",
        [
            ("转人工", "11-05 13:46"),
            ("我要跟真人说话", "11-13 23:27"),
            ("要人工客服 别让机器人回", "11-21 08:13"),
            ("能不能让你们工作人员打给我", "11-29 19:35"),
            ("找个人来跟我说 机器人听不懂", "12-05 10:59"),
            ("有没有客服经理 我要当面谈", "12-13 15:24"),
            ("rg rg rg 听不懂你说啥", "12-21 21:50"),
            ("请安排专员联系我", "12-29 09:08"),
            ("别自动回复了 叫个人出来", "01-06 22:41"),
            ("我要和你们主管谈", "01-14 12:17"),
            ("可以给我个客服电话吗", "01-22 06:55"),
            ("人工 人工 人工!!! 听见没", "01-28 18:02"),
        ],
    ),
    *_plain(
        HANS,
        "complaint",
        [
            ("你们催收员态度太差了 还骂我", "11-06 11:43"),
            ("一天打二十几个电话 这是骚扰 我要投诉", "11-14 17:20"),
            ("为什么打给我爸妈？我的事凭什么找我家人", "11-22 21:37"),
            ("凌晨两点打电话 有没有素质", "11-30 02:11"),
            ("你们的人威胁说要上门 我已经录音了", "12-08 16:05"),
            ("我要投诉工号8012的那个客服", "12-16 09:49"),
            ("把我欠款的事告诉我同事 太过分了", "12-24 13:30"),
            ("短信里用词侮辱人 你们就这么对客户？", "01-01 20:38"),
            ("要打12378投诉你们暴力催收", "01-09 10:04"),
            ("打了三次客服都在踢皮球 没人解决问题 服务太差", "01-17 15:46"),
            ("催就催 在朋友圈发我照片是什么意思", "01-25 12:19"),
            ("气死我了 你们的机器人一直答非所问", "01-31 23:21"),
        ],
    ),
    *_plain(
        HANS,
        "vulnerable",
        [
            ("真的撑不下去了 想一了百了", "11-07 08:33"),
            ("还不上就去死吧 反正活着也没意思", "11-15 23:44"),
            ("安眠药已经买好了", "11-23 01:18"),
            ("站在楼顶了 你们满意了吧", "12-02 15:52"),
            ("这个世界没有我应该会更好", "12-10 10:07"),
            ("对不起 我坚持不下去了 帮我跟家人说声抱歉", "12-18 22:36"),
            ("每天都在想怎么结束这一切", "12-26 03:29"),
            ("整晚整晚睡不着 一直哭 不知道活着是为了什么", "01-03 05:14"),
            ("我男朋友又打我 手机被他抢了 我现在躲在厕所", "01-11 13:03"),
            ("如果我不在了 这笔钱是不是就不用还了", "01-19 14:47"),
            ("刀已经在手上了", "01-27 02:58"),
            ("逼死我你们就开心了 今晚我就解脱", "01-30 23:36"),
        ],
    ),
    *_plain(
        HANS,
        "other",
        [
            ("在吗", "11-03 11:22"),
            ("谢谢", "11-10 15:08"),
            ("你们有没有信用卡产品 想申请一张", "11-18 14:44"),
            ("怎么提升借款额度", "11-26 20:57"),
            ("哈哈哈 这个表情包笑死我了", "12-04 00:25"),
            ("👍 谢啦", "12-12 13:51"),
            ("你们是正规公司吗", "12-20 10:36"),
            ("今天天气不错 发错群了", "12-28 08:19"),
            ("ok 收到了 谢谢", "01-05 19:03"),
            ("能帮我查一下快递吗", "01-13 16:40"),
            ("新年快乐！", "01-01 00:03"),
            ("今天上班累死了 先不聊了 回头说", "01-21 21:34"),
        ],
    ),
    # == zh-Hant ================================================================================
    *_plain(
        HANT,
        "pay_now",
        [
            ("點樣還錢？有冇link", "11-02 09:47"),
            ("我而家想還款，去邊度俾錢", "11-10 20:28"),
            ("可以用轉數快還嗎？俾個FPS ID我", "11-18 12:36"),
            ("請問還款連結在哪裡？我想今天處理掉", "11-26 08:03"),
            ("即刻還得唔得 send條link嚟", "12-03 22:55"),
            ("想一次過還晒，要點操作", "12-11 17:12"),
            ("可以用信用卡繳嗎？現在就要繳", "12-19 10:44"),
            ("超商可以繳費嗎 給我繳費代碼", "12-27 14:21"),
            ("我要還款 但app一直顯示錯誤 點算", "01-04 19:39"),
            ("攰到死，啱啱收工先見到msg，而家還點搞", "01-12 23:17"),
            ("直接喺錢包扣數就得啦 我同意而家扣", "01-20 07:50"),
            ("麻煩提供轉帳帳號，馬上匯過去", "01-28 11:06"),
        ],
    ),
    *_promises(
        HANT,
        [
            ("聽日還500蚊", "11-05 08:40", 50000, "2026-11-06"),
            ("出咗糧就還返2千俾你哋", "12-09 20:20", 200000, "2026-12-15"),
            ("星期五會還1,500", "12-04 11:00", 150000, "2026-12-11"),
            ("下星期一會入數$800", "11-28 16:30", 80000, "2026-11-30"),
            ("月底會繳5000元", "01-07 14:10", 500000, "2027-01-31"),
            ("過兩天先還一千", "11-11 23:05", 100000, "2026-11-13"),
            ("12月20號還晒佢，$4,200", "11-24 10:25", 420000, "2026-12-20"),
            ("一週後還2500，拜託先別再打來", "01-21 07:55", 250000, "2027-01-28"),
            ("月中會還 HK$1.2k", "01-02 18:00", 120000, "2027-01-15"),
            ("後日還三百蚊先", "12-30 21:30", 30000, "2027-01-01"),
            ("呢個週末一定還", "11-18 12:12", None, "2026-11-21"),
            ("下個月初會全部還清", "01-25 09:45", None, "2027-02-01"),
        ],
    ),
    *_plain(
        HANT,
        "payment_plan",
        [
            ("可唔可以分期還", "11-01 21:30"),
            ("一次過還唔到 可以分開幾期嗎", "11-09 07:19"),
            ("想申請分期付款，請問要怎樣辦", "11-17 16:42"),
            ("每個月還$1000得唔得 分五個月", "11-25 11:57"),
            ("可以分12期嗎？每月繳一點", "12-02 19:23"),
            ("有冇還款計劃？我想每個禮拜還少少", "12-10 23:48"),
            ("金額太大，能不能拆成幾筆慢慢還", "12-18 08:34"),
            ("分期有冇手續費 我想分3期", "12-26 13:16"),
            ("請問可以辦理分期攤還嗎", "01-03 10:01"),
            ("我想set個instalment plan", "01-11 17:45"),
            ("一次還不出來，分月繳可以嗎", "01-19 22:20"),
            ("可唔可以每次出糧還一部分，分幾個月還清", "01-27 06:28"),
        ],
    ),
    *_plain(
        HANT,
        "extension",
        [
            ("可唔可以寬限多幾日", "11-03 19:56"),
            ("想申請延期還款", "11-11 10:38"),
            ("還款日可以延後嗎", "11-19 22:07"),
            ("可以遲幾日先還嗎 唔好當我逾期啊 唔該晒🙏", "11-27 14:52"),
            ("能否給我多一點時間", "12-05 09:16"),
            ("我喺大陸公幹 返香港先還 可以等我嗎", "12-13 20:41"),
            ("可以展期一個月嗎", "12-21 12:03"),
            ("請問到期日能不能往後延", "12-29 16:29"),
            ("遲少少還得唔得 最多兩個禮拜", "01-06 08:48"),
            ("麻煩幫我延長還款期限，謝謝", "01-14 21:12"),
            ("延期需要咩手續", "01-22 13:34"),
            ("俾多啲時間我啦 唔該", "01-30 00:51"),
        ],
    ),
    *_plain(
        HANT,
        "already_paid",
        [
            ("已經還咗", "11-04 13:28"),
            ("我尋日已經俾咗錢 點解仲催", "11-12 08:17"),
            ("已轉帳，請查收", "11-20 17:44"),
            ("上星期已經還清了，有收據", "11-28 21:06"),
            ("啱啱用FPS過咗數", "12-06 10:22"),
            ("之前已經繳款了 怎麼還顯示逾期", "12-14 15:58"),
            ("我付咗喇 唔該check下", "12-22 23:33"),
            ("錢已匯出 麻煩確認", "12-30 09:51"),
            ("我老婆幫我還咗 你哋查下", "01-07 18:09"),
            ("已全數清還", "01-15 12:40"),
            ("paid咗啦 仲send msg嚟", "01-23 22:14"),
            ("已於超商繳費完成", "01-31 11:27"),
        ],
    ),
    *_plain(
        HANT,
        "balance_question",
        [
            ("我仲欠幾多錢", "11-06 16:14"),
            ("幾時到期", "11-14 09:32"),
            ("可以send張月結單俾我嗎", "11-22 19:08"),
            ("請問目前欠款總額是多少？謝謝😊", "11-30 10:46"),
            ("點解會多咗$200", "12-07 21:25"),
            ("逾期罰款點計", "12-15 07:53"),
            ("還款期限是哪一天", "12-23 14:37"),
            ("而家一次過還要幾多", "12-31 17:19"),
            ("這筆欠款是哪一筆消費", "01-08 20:02"),
            ("利息係點樣計出嚟", "01-16 11:48"),
            ("最低還款額係幾多", "01-24 08:26"),
            ("帳單明細在哪裡看", "01-29 22:59"),
        ],
    ),
    *_plain(
        HANT,
        "dispute",
        [
            ("呢筆數唔係我借嘅", "11-05 20:51"),
            ("我從來沒有用過這個服務", "11-13 11:29"),
            ("金額錯咗 我淨係借咗$3000", "11-21 18:43"),
            ("件貨已經退咗 點解仲要還", "11-29 09:04"),
            ("我帳戶被盜用，這些交易不是我做的", "12-07 14:27"),
            ("之前已經同你哋同事傾好減免咗，我都照還咗", "12-15 22:38"),
            ("利息計錯 合約唔係咁寫", "12-23 10:15"),
            ("重複扣款，我不承認這筆", "12-31 13:57"),
            ("我冇簽過任何借貸合約", "01-08 16:34"),
            ("這筆已經在和解時一筆勾銷了", "01-16 07:21"),
            ("呢個數我唔認", "01-24 19:10"),
            ("商家都已經退款了 這筆費用不應該算我", "01-30 14:46"),
        ],
    ),
    *_plain(
        HANT,
        "hardship",
        [
            ("我失業咗 真係冇錢還", "11-07 22:42"),
            ("最近入咗院 冇收入", "11-15 10:55"),
            ("公司執笠 人工都未出 還唔到", "11-23 17:37"),
            ("屋企人重病 錢全部用晒喺醫藥費", "12-01 20:13"),
            ("颱風把我的店毀了 現在沒有收入", "12-09 08:24"),
            ("被裁員了 還在找工作 真的繳不出來", "12-17 15:02"),
            ("我生病在家休養 沒辦法工作", "12-25 11:49"),
            ("做散工 呢排冇開工 一蚊都冇", "01-02 23:31"),
            ("老公過身咗 一個人養兩個細路 真係還唔起", "01-10 21:16"),
            ("車禍受傷 醫生叫我休息三個月 沒辦法上班", "01-18 09:38"),
            (
                "我本身做飲食，間舖上個月結業咗，而家仲要照顧屋企老人家，真係一蚊都拎唔出嚟，唔係唔想還",
                "01-26 18:05",
            ),
            ("人工被減一半 交租都唔夠 煩到死", "01-31 07:44"),
        ],
    ),
    *_plain(
        HANT,
        "stop",
        [
            ("退訂", "11-02 14:07"),
            ("唔好再打嚟", "11-10 09:50"),
            ("STOP 唔好再send嘢嚟", "11-18 21:22"),
            ("請停止傳送簡訊", "11-26 12:31"),
            ("取消訂閱", "12-04 18:39"),
            ("唔好再send短訊俾我", "12-12 07:26"),
            ("別再打到我公司了", "12-20 16:54"),
            ("請不要再聯絡我", "12-28 11:41"),
            ("以後唔好打電話 有嘢email", "01-05 22:03"),
            ("請將我的號碼從名單中移除", "01-13 13:12"),
            ("拒收此類訊息", "01-21 08:58"),
            ("停止推播通知，謝謝", "01-29 19:47"),
        ],
    ),
    *_plain(
        HANT,
        "wrong_person",
        [
            ("你打錯咗 我唔係佢呀", "11-03 15:15"),
            ("呢個號碼唔係佢㗎 我新用嘅", "11-11 19:44"),
            ("不認識這個人", "11-19 11:23"),
            ("發錯人了", "11-27 08:36"),
            ("我唔識陳大文", "12-05 21:57"),
            ("非本人，請查明", "12-13 10:18"),
            ("這支電話已經換人用了", "12-21 17:05"),
            ("搵錯人啦", "12-29 22:52"),
            ("我是他同事 這是公司電話 他已經離職了", "01-06 14:33"),
            ("呢個email唔係佢嘅", "01-14 09:07"),
            ("你要找的人不是我，請確認", "01-22 20:26"),
            ("冇呢個人", "01-30 12:38"),
        ],
    ),
    *_plain(
        HANT,
        "talk_to_human",
        [
            ("轉人工", "11-04 22:19"),
            ("我想同真人傾", "11-12 13:41"),
            ("請找客服人員跟我聯絡", "11-20 10:09"),
            ("唔該搵個職員打返俾我", "11-28 18:48"),
            ("可以叫主管聽電話嗎", "12-06 15:35"),
            ("機械人唔明我講咩 要真人", "12-14 20:04"),
            ("人工服務", "12-22 07:38"),
            ("有冇客服熱線", "12-30 12:56"),
            ("我想和專人談", "01-07 16:22"),
            ("可唔可以安排個agent call我", "01-15 23:09"),
            ("請真人回覆", "01-23 11:44"),
            ("搵個人嚟", "01-31 15:18"),
        ],
    ),
    *_plain(
        HANT,
        "complaint",
        [
            ("你哋啲收數佬態度好差 仲粗口鬧人", "11-06 19:33"),
            ("一日打廿幾個電話 係咪滋擾", "11-14 12:48"),
            ("點解打去我屋企人度 關佢哋咩事", "11-22 09:26"),
            ("半夜三更打嚟 有冇搞錯", "11-30 01:42"),
            ("你們的人說要來我家 這是恐嚇", "12-08 17:59"),
            ("我要投訴你們的職員", "12-16 11:34"),
            ("你哋同我老細講我欠錢 搞到我好尷尬", "12-24 20:21"),
            ("你們的簡訊內容很不尊重人，什麼叫「再不還就等著上門」？我要客訴", "01-01 14:08"),
            ("我會向金管會檢舉你們的催收方式", "01-09 21:45"),
            ("客服推來推去 完全沒有人處理", "01-17 10:37"),
            ("你哋個職員講嘢好寸", "01-25 16:53"),
            ("嬲死 打咗三次都冇人理 服務咁差", "01-29 13:02"),
        ],
    ),
    *_plain(
        HANT,
        "vulnerable",
        [
            ("我唔想生存落去", "11-08 03:12"),
            ("我諗住今晚跳落去 咁就唔使還", "11-16 23:58"),
            ("已經儲咗好多粒安眠藥", "11-24 02:26"),
            ("活著好累 不想再醒來了", "12-02 04:41"),
            ("我寫好遺書了", "12-10 16:17"),
            ("對唔住 我真係頂唔順 你哋以後都唔會再見到我", "12-18 11:09"),
            ("成日諗住點樣結束自己", "12-26 23:24"),
            ("每晚都喊到天光 覺得自己冇用到極", "01-03 04:55"),
            ("他喝醉了又在打我 我不敢出房間", "01-11 19:32"),
            ("如果我死了 債務是不是就一筆勾銷", "01-19 12:48"),
            ("我企咗喺天台邊 好平靜", "01-27 03:37"),
            ("真的不想活了 對不起", "01-31 02:14"),
        ],
    ),
    *_plain(
        HANT,
        "other",
        [
            ("哈囉 你好", "11-01 08:08"),
            ("多謝", "11-09 16:27"),
            ("早晨☀️ 今日天氣幾好", "11-17 07:03"),
            ("你哋有冇信用卡可以申請", "11-25 13:44"),
            ("點樣提升額度", "12-03 20:30"),
            ("哈哈 冇嘢喇", "12-11 09:12"),
            ("🙏🙏 謝謝你們", "12-19 22:45"),
            ("請問你們是合法公司嗎", "12-27 11:57"),
            ("收到，謝謝", "01-04 15:33"),
            ("聖誕快樂", "12-25 00:16"),
            ("今日返工攰到死 遲啲先講", "01-12 21:49"),
            ("呢個app點改密碼", "01-20 18:24"),
        ],
    ),
    # == en =====================================================================================
    *_plain(
        EN,
        "pay_now",
        [
            ("how do i pay ths", "11-02 18:42"),
            ("Send me the payment link pls", "11-10 08:26"),
            (
                "I want to pay off the full balance right now, what's the easiest way?",
                "11-18 19:51",
            ),
            ("can I pay with apple pay or only card?", "11-26 10:14"),
            ("ok ok paying now. where's the link", "12-03 13:39"),
            (
                "Tried to pay in the app but the button is greyed out. How else can I pay?",
                "12-11 21:08",
            ),
            ("just take it from my wallet balance, go ahead", "12-19 07:47"),
            ("Is there a QR code I can scan to pay", "12-27 16:02"),
            ("wanna settle up, whats the account number for a bank transfer", "01-04 22:35"),
            ("ready to pay. how", "01-12 06:59"),
            (
                "Hi, I'd like to make a payment on my overdue account. Could you tell me how?",
                "01-20 11:20",
            ),
            (
                "ugh this app is killing me, can't find where to pay. just give me the link",
                "01-28 20:47",
            ),
        ],
    ),
    *_promises(
        EN,
        [
            ("I can pay 200 tomorrow", "11-08 22:50", 20000, "2026-11-09"),
            ("will pay 1.5k on friday", "11-20 06:45", 150000, "2026-11-27"),
            ("Next Tuesday I'll send 450", "12-10 13:00", 45000, "2026-12-15"),
            ("gonna clear it end of the month, 2300 all in", "11-03 19:30", 230000, "2026-11-30"),
            ("when i get paid ill pay 600", "01-16 11:11", 60000, "2027-02-15"),
            ("In 3 days I'll transfer five hundred", "12-27 08:00", 50000, "2026-12-30"),
            ("I'll pay 1000 on Dec 20", "12-05 17:20", 100000, "2026-12-20"),
            ("this weekend i'll put in 350", "12-18 23:40", 35000, "2026-12-19"),
            ("Can do 250 in a week", "11-26 12:00", 25000, "2026-12-03"),
            ("by the 15th I'll pay 900 yuan", "01-09 09:30", 90000, "2027-01-15"),
            ("I'll pay it all early next month, promise", "12-14 20:00", None, "2027-01-01"),
            ("Paying this Thursday, stop chasing", "01-11 10:00", None, "2027-01-14"),
        ],
    ),
    *_plain(
        EN,
        "payment_plan",
        [
            ("can i pay in instalments", "11-01 17:36"),
            ("Is a payment plan possible? I can't do it all at once", "11-09 12:58"),
            ("could I split it into 3 payments", "11-17 21:41"),
            ("I can do like 100 a week until it's paid off, would that work", "11-25 07:15"),
            ("Do you offer monthly instalments?", "12-02 15:27"),
            ("pls set me up on a plan, 4 months maybe", "12-10 20:53"),
            ("Can I pay half now and spread the rest over a couple of months", "12-18 11:06"),
            ("payment arrangement? monthly would be easier", "12-26 09:44"),
            ("Any chance of breaking the balance into smaller monthly chunks", "01-03 18:18"),
            ("I'd like to request an installment plan for my BNPL balance", "01-11 14:31"),
            ("can we do 6 monthly payments instead", "01-19 23:23"),
            ("split it up pls, cant pay 3k in one go", "01-27 10:50"),
        ],
    ),
    *_plain(
        EN,
        "extension",
        [
            ("can I get a few more days", "11-03 22:24"),
            ("Could you extend my due date by a week?", "11-11 12:12"),
            ("need an extention pls", "11-19 08:39"),
            ("Is it possible to push the payment date back a bit", "11-27 19:05"),
            ("any chance I could have until next month", "12-05 11:46"),
            ("I'm travelling, can it wait till I'm back", "12-13 06:21"),
            ("Requesting a 30 day extension on my loan", "12-21 15:53"),
            ("pls give me more time, i'm not running away", "12-29 23:12"),
            ("can the deadline be moved? just need a little longer", "01-06 17:28"),
            ("Hello, would it be possible to defer this payment?", "01-14 09:55"),
            ("can you hold off on the late fees and give me extra time", "01-22 20:40"),
            ("just need a bit more time, is that doable", "01-30 13:04"),
        ],
    ),
    *_plain(
        EN,
        "already_paid",
        [
            ("alredy paid 🙄", "11-04 07:31"),
            ("I paid yesterday, why am I still getting these?", "11-12 18:57"),
            ("Payment went through this morning, check your records", "11-20 13:22"),
            ("paid it off last week, I have the receipt", "11-28 10:40"),
            ("sent the money already", "12-06 22:16"),
            ("done, just transferred 300", "12-14 12:53"),
            ("I settled this in full on the 2nd", "12-22 09:11"),
            ("my brother paid it for me on friday", "12-30 19:38"),
            (
                "Hi, I made the payment a few days ago. Please confirm it was received.",
                "01-07 08:02",
            ),
            ("it's been paid. the bank shows it debited", "01-15 16:49"),
            ("paid!!", "01-23 21:57"),
            ("i cleared the balance via the app, confirmation no. 88213", "01-31 10:25"),
        ],
    ),
    *_plain(
        EN,
        "balance_question",
        [
            ("how much do i owe", "11-05 12:26"),
            ("What's the total including fees?", "11-13 08:54"),
            ("when is it due", "11-21 20:19"),
            ("why is the amount higher than last month", "11-29 15:08"),
            ("Can you send me a breakdown of the balance?", "12-07 10:37"),
            ("which purchase is this for", "12-15 19:14"),
            ("what's the payoff amount if I pay today", "12-23 07:41"),
            ("how much is the minimum payment", "12-31 12:09"),
            ("how are the late fees calculated", "01-08 22:48"),
            ("Outstanding balance?", "01-16 14:13"),
            ("due date pls", "01-24 09:36"),
            ("I don't understand this bill. What exactly am I being charged for?", "01-29 18:51"),
        ],
    ),
    *_plain(
        EN,
        "dispute",
        [
            ("I never took out this loan", "11-05 16:04"),
            ("This isn't my purchase, I don't recognise it", "11-13 21:46"),
            ("the amount is wrong, i only borrowed 1500", "11-21 11:17"),
            (
                "I returned the item and the merchant refunded me, so I don't owe this",
                "11-29 17:52",
            ),
            ("My account was hacked, these charges aren't mine", "12-07 08:35"),
            (
                "this was already settled with your agent in october, we agreed a reduced amount and I paid it",
                "12-15 13:28",
            ),
            ("you charged me twice for the same order", "12-23 22:06"),
            ("I dispute this debt", "12-31 09:23"),
            ("Someone opened this in my name. identity theft", "01-08 12:59"),
            ("The late fee is wrong, I paid on time according to my statement", "01-16 20:31"),
            ("not my debt. prove it", "01-24 15:42"),
            (
                "the interest is way more than the contract says, I'm not paying that part",
                "01-30 08:14",
            ),
        ],
    ),
    *_plain(
        EN,
        "hardship",
        [
            (
                "lost my job last month, I literally have no money. I've been applying everywhere, sold my car, and I still can't cover rent let alone this. I'm not ignoring you, there's just nothing there",
                "11-07 14:39",
            ),
            ("I'm in hospital, no income right now", "11-15 20:02"),
            ("company went bust and never paid our wages", "11-23 12:47"),
            ("my mum's cancer treatment is taking every cent we have", "12-01 09:21"),
            ("The flood destroyed my shop and I have no income", "12-09 18:10"),
            (
                "I got laid off and I'm still looking for work. I can't pay anything right now",
                "12-17 10:56",
            ),
            ("on unpaid sick leave for 2 months, can't cover this", "12-25 21:33"),
            ("my hours got cut to nothing, barely affording food", "01-02 16:48"),
            ("single mum of 3 since my husband passed, nothing left after rent", "01-10 08:27"),
            ("had a car accident, can't work for a while", "01-18 13:15"),
            ("I'm on disability benefits now and they barely cover the basics", "01-26 19:59"),
            (
                "this debt is killing me honestly, got made redundant and rent is due too",
                "01-31 22:38",
            ),
        ],
    ),
    *_plain(
        EN,
        "stop",
        [
            ("STOP", "11-02 11:18"),
            ("unsubscribe", "11-10 23:36"),
            ("stop calling me", "11-18 09:02"),
            ("Please stop texting this number", "11-26 17:24"),
            ("Do not contact me again", "12-04 14:49"),
            ("no more calls at work please", "12-12 10:07"),
            ("stop", "12-20 20:15"),
            ("remove me from your list", "12-28 07:52"),
            ("Email only from now on, no phone calls", "01-05 12:34"),
            ("ur killing me with these texts. STOP", "01-13 22:21"),
            ("quit messaging me", "01-21 15:03"),
            ("opt out", "01-29 08:46"),
        ],
    ),
    *_plain(
        EN,
        "wrong_person",
        [
            ("wrong number", "11-03 08:57"),
            ("I'm not this person", "11-11 16:33"),
            ("you've got the wrong guy", "11-19 20:48"),
            ("There's no one called Michael Wong at this number", "11-27 10:29"),
            ("I got this number recently, it's not theirs anymore", "12-05 15:16"),
            ("wrong person mate", "12-13 22:44"),
            ("not me. never heard of her", "12-21 09:37"),
            ("This is a shared office line, he doesn't work here anymore", "12-29 11:53"),
            ("pretty sure you've texted the wrong number", "01-06 19:02"),
            ("this email address doesn't belong to the person you're looking for", "01-14 07:18"),
            ("this is my number not hers, she must have typed it wrong", "01-22 17:41"),
            ("Who is Kevin? Not me", "01-30 21:26"),
        ],
    ),
    *_plain(
        EN,
        "talk_to_human",
        [
            ("agent", "11-04 15:51"),
            ("can I speak to a real person", "11-12 11:04"),
            ("human please", "11-20 22:37"),
            ("get me a supervisor", "11-28 13:15"),
            ("I want to talk to someone, not a bot", "12-06 09:48"),
            ("Please have someone call me back", "12-14 18:22"),
            ("customer service number?", "12-22 14:06"),
            ("representative", "12-30 08:43"),
            ("can u guys just have someone call me", "01-07 20:11"),
            ("Put me through to your collections team", "01-15 10:34"),
            ("I'd like to discuss this with an actual person", "01-23 16:59"),
            ("let me talk to whoever is in charge", "01-31 19:20"),
        ],
    ),
    *_plain(
        EN,
        "complaint",
        [
            ("your agent was incredibly rude to me on the phone", "11-06 13:09"),
            ("15 calls a day is harassment. I want to file a complaint", "11-14 19:47"),
            ("Why did you contact my employer? That's completely unacceptable", "11-22 12:28"),
            ("someone from your company called at 11pm. not ok", "11-30 23:14"),
            ("your collector threatened to come to my house", "12-08 10:52"),
            ("I want to make a formal complaint about how I've been treated", "12-16 15:37"),
            ("you told my sister about my debt, that's a privacy breach", "12-24 09:05"),
            ("the tone of your messages is threatening and disgusting", "01-01 18:43"),
            ("I'll be reporting you to the regulator for these tactics", "01-09 14:26"),
            ("been transferred 4 times and nobody helps. worst service ever", "01-17 21:54"),
            ("the guy on the phone laughed at me when I said I was struggling", "01-25 11:31"),
            (
                "this is driving me insane, your reminders come at 6am every day. who does that?",
                "01-28 06:12",
            ),
        ],
    ),
    *_plain(
        EN,
        "vulnerable",
        [
            ("i want to die", "11-07 01:47"),
            ("I've been thinking about ending it all", "11-15 22:59"),
            ("I have the pills ready", "11-23 14:34"),
            ("everyone would be better off without me", "12-01 09:26"),
            ("sorry, I can't do this anymore. tell my kids I love them", "12-09 02:03"),
            ("If I kill myself does the debt go away?", "12-17 12:40"),
            ("I'm standing on the bridge right now", "12-25 04:18"),
            (
                "haven't slept in days, can't stop crying, I don't see the point of anything",
                "01-02 03:51",
            ),
            ("my partner is hitting me and took my card, I'm scared to go home", "01-10 17:09"),
            ("I've written my note", "01-18 01:33"),
            ("no point living like this", "01-26 23:49"),
            ("this will be my last message. goodbye everyone", "01-31 04:27"),
        ],
    ),
    *_plain(
        EN,
        "other",
        [
            ("hi", "11-01 09:33"),
            ("thanks", "11-09 19:11"),
            ("ok", "11-17 13:26"),
            ("Do you offer personal loans?", "11-25 16:47"),
            ("how do i change my phone number on the app", "12-03 08:15"),
            ("lol", "12-11 23:02"),
            ("👍 thx", "12-19 12:39"),
            ("Is this a scam?", "12-27 20:06"),
            ("Merry Christmas!", "12-25 09:30"),
            ("sorry wrong chat", "01-04 14:58"),
            ("who is this", "01-12 10:42"),
            ("work is killing me today, will look at this later", "01-20 22:54"),
        ],
    ),
]


def _identified(rows: list[Row]) -> list[tuple[str, Row]]:
    """Each row with its id, numbered within its (language, intent) in the order written."""
    seen: Counter[tuple[str, str]] = Counter()
    out = []
    for row in rows:
        language, intent = row[0], row[1]
        seen[(language, intent)] += 1
        out.append((f"u6-{language}-{intent}-{seen[(language, intent)]:03d}", row))
    return out


# The second labeller's changes (see the docstring): id -> (the author's intent, the new intent,
# amount_minor, date). The id keeps the author's intent.
RELABELLED: dict[str, tuple[str, str, int | None, str | None]] = {
    # "这周五还1200，到时候别再打电话了": a promise with a request to stop calling (rule 3).
    "u6-zh-Hans-promise_to_pay-002": ("promise_to_pay", "stop", None, None),
    # "一週後還2500，拜託先別再打來": a promise with a request to stop calling (rule 3).
    "u6-zh-Hant-promise_to_pay-008": ("promise_to_pay", "stop", None, None),
}


def _labelled(rows: list[Row]) -> list[tuple[str, Row]]:
    """Each row with its id (`_identified`), its label replaced where `RELABELLED` says so."""
    out = []
    for ident, row in _identified(rows):
        if ident in RELABELLED:
            _, intent, amount, date = RELABELLED[ident]
            row = (row[0], intent, row[2], row[3], amount, date)
        out.append((ident, row))
    return out


def changes(rows: list[Row]) -> Counter[tuple[str, str]]:
    """How many labels `RELABELLED` changes, by (from, to) intent."""
    authored = dict(_identified(rows))
    return Counter((authored[i][1], RELABELLED[i][1]) for i in RELABELLED if i in authored)


def problems(rows: list[Row]) -> list[str]:
    """What is wrong with `rows` (nothing: an empty list)."""
    found = []
    authored = dict(_identified(rows))
    for ident, (old, *_) in RELABELLED.items():
        if ident not in authored:
            found.append(f"relabelled id {ident} is not in the set")
        elif authored[ident][1] != old:
            found.append(f"relabelled id {ident} is {authored[ident][1]}, not {old}")
    labelled = _labelled(rows)
    rows = [row for _, row in labelled]
    cells = Counter((language, intent) for language, intent, *_ in rows)
    for language in LANGUAGES:
        for intent in INTENTS:
            if cells[(language, intent)] < MIN_PER_CELL:
                found.append(f"{language} {intent}: {cells[(language, intent)]} messages")
    found += [
        f"unknown cell {cell}"
        for cell in cells
        if cell[0] not in LANGUAGES or cell[1] not in INTENTS
    ]
    ids = [ident for ident, _ in labelled]
    found += [f"id {ident} twice" for ident, n in Counter(ids).items() if n > 1]
    texts = Counter((language, text) for language, _, text, *_ in rows)
    found += [f"text {text!r} twice" for (_, text), n in texts.items() if n > 1]
    amounts: Counter[str] = Counter()
    for language, intent, text, at, amount, date in rows:
        if not text.strip():
            found.append(f"{language} {intent}: an empty text")
        moment = dt.datetime.fromisoformat(at)
        if moment.utcoffset() != ZONE.utcoffset(None) or not FIRST <= moment.date() <= LAST:
            found.append(f"{text!r}: at {at} is not in +08:00 between {FIRST} and {LAST}")
        if intent == "promise_to_pay":
            if date is None:
                found.append(f"{text!r}: a promise without a date")
                continue
            try:
                day = dt.date.fromisoformat(date)
            except ValueError:
                found.append(f"{text!r}: {date} is not a real date")
                continue
            if day < moment.date():
                found.append(f"{text!r}: {date} is before the message")
            if amount is not None:
                amounts[language] += 1
                if amount <= 0:
                    found.append(f"{text!r}: amount {amount}")
        elif amount is not None or date is not None:
            found.append(f"{text!r}: a {intent} with entities")
    found += [
        f"{language}: {amounts[language]} promises with an amount (at least {MIN_AMOUNTS})"
        for language in LANGUAGES
        if amounts[language] < MIN_AMOUNTS
    ]
    return found


def lines(rows: list[Row]) -> list[str]:
    """The set's lines, sorted by language, then intent, then id."""
    records = [
        {
            "id": ident,
            "text": text,
            "at": at,
            "language": language,
            "intent": intent,
            "amount_minor": amount,
            "date": date,
            "split": SPLIT,
        }
        for ident, (language, intent, text, at, amount, date) in _labelled(rows)
    ]
    records.sort(key=lambda r: (str(r["language"]), str(r["intent"]), str(r["id"])))
    return [json.dumps(record, ensure_ascii=False) for record in records]


def main() -> int:
    found = problems(MESSAGES)
    if found:
        print("refusing to write:", *found, sep="\n  ", file=sys.stderr)
        return 1
    OUT.write_text("\n".join(lines(MESSAGES)) + "\n", encoding="utf-8")
    print(f"wrote {len(MESSAGES)} messages to {OUT.relative_to(ROOT)}")
    for (old, new), n in sorted(changes(MESSAGES).items()):
        print(f"  relabelled {old} -> {new}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
