"""Writes src/recoup/assistant/data/unseen5.jsonl: a fifth unseen set, written for issue 21's
seventh wave before any rule, cue or training line of that wave changed, without reading the
labelled set's test split (nor its misses) and without copying a line of the labelled set or of
unseen2-4 (an exact repeat is left out).

The crisis messages follow sources the earlier waves did not use: WHO's "Preventing suicide: a
resource for media professionals" (2023 update: the warning signs it asks reporters to list, and
financial loss and debt among the risk factors), the materials of China's national 12356
psychological assistance hotline (心理援助热线: 情绪持续低落, 失眠, 绝望, 觉得自己是负担, 自伤的
念头, 准备方法), the Samaritan Befrienders Hong Kong's "warning signs" (香港撒瑪利亞防止自殺會: 說
再見, 安排後事, 情緒突然平靜), the Trevor Project's signs of suicide risk (hopelessness, being a
burden, unbearable pain, rejection by family, drinking or using more, sleeping too much or too
little) and Lifeline Australia's warning signs (talking about death, researching means, withdrawal,
sudden calm after a low, giving possessions away, saying goodbye, reckless behaviour), written as
people text a lender: indirect, with typos, Cantonese, traditional characters, pinyin, English
mixed in and emoji. The opt-outs are the ways a debtor asks a lender to stop (keywords and words);
the others are ordinary replies of the other intents (promises with their amount and date) and
lookalikes of the crisis rule (a bridge in traffic, a roof, rope for a move, painkillers for a
headache, a pet minded by a friend, "this app is killing me").

Nothing here is trained on: it is measured, not learned from (docs/assistant.md, "The unseen5
set"). Run ``python scripts/assistant_unseen5.py``; then
``recoup assistant evaluate --split unseen5``.
"""

from __future__ import annotations

from datetime import datetime

from assistant_heldout import DATA, write_set

ZONES = {"zh-Hans": 8, "zh-Hant": 8, "en": 0}

LINES: dict[str, dict[str, list[str | tuple[str, int, int]]]] = {
    "zh-Hans": {
        "vulnerable": [
            "欠的钱越滚越多，我真的撑不住了，想消失",
            "每天半夜三点醒，脑子里反复想要不要从楼上跳下去",
            "心里突然很平静了，该做的决定已经做了，谢谢你们",
            "网上查了好几天哪种方法不痛",
            "家里知道我欠钱以后都不理我了，活着就是个笑话，想结束",
            "三天没吃东西了，不想动也不想活",
            "攒了一抽屉的安眠药，应该够了",
            "这是最后一次跟你们说话，债我还不了，人也不在了",
            "wo zhen de bu xiang zai huo xia qu le",
            "要是我明天没回消息，就是我已经走了",
            "老公喝醉了拿刀追我，我把自己锁在卧室里",
            "站在阳台边上往下看，觉得跳下去就轻松了",
            "给爸妈写好了对不起的话，压在枕头底下",
            "我是这个家的拖累，没了我他们能少还很多钱",
            "割了好几刀，血止不住 😭",
            "每天喝一斤白酒才睡得着，醒了就想死",
            "活着太累了，想一直睡下去不要醒",
            "我这种人不配活在世上",
            "出柜以后家里跟我断绝关系，又欠着钱，不知道活着为了什么",
            "今晚去桥上待一会，钱的事以后跟我没关系了",
            "好想从这个世界上消失，没人会在意的",
            "工资卡和密码都交给我妹了，我的事就到这了",
        ],
        "stop": [
            "以后别再给我发催款短信了",
            "回复T，不要再发了",
            "请立即停止短信骚扰",
            "这个号不再接收任何催收信息",
            "我要求停止电话联系，书面沟通就行",
            "把我手机号从你们系统里删了",
            "不要再换着号码打给我",
            "别再发了烦不烦",
            "退订 谢谢了",
            "请停止向我推送还款提醒",
            "我已经说过很多次了，别再打了",
            "关掉催收短信",
            "请停止联系我，谢谢配合",
            "这种短信我不想再收到了",
        ],
        "other": [
            "笑死我了，你们的客服机器人好可爱",
            "手机屏幕碎了，回复会慢",
            "冰箱坏了，菜都放坏了",
            "这周忙到飞起，周末再说",
            "我在桥上堵车，晚点回电",
            "药店买了点感冒药，明天再处理",
            "刚下班，累成狗",
            "游戏又挂了，气死",
            "猫送去寄养了，我出差一周",
            "在天台晒被子，等下回你",
            "好的，谢谢，再见",
            "你们公司在哪个城市",
            "App一直闪退怎么办",
            "停电了，手机快没电",
        ],
        "pay_now": ["现在怎么还款，给个链接", "我想马上把这期还了", "能用微信付吗，现在就付"],
        "promise_to_pay": [
            ("明天下午还500，剩下的再说", 50000, 1),
            ("后天发了钱先还一千", 100000, 2),
            ("三天后还800块可以吧", 80000, 3),
        ],
        "payment_plan": [
            "能不能分成四期还",
            "我想申请分期，每月还一点",
            "分期的话利息怎么算，我想办",
        ],
        "extension": ["能宽限几天吗", "可以晚两周再还吗", "能推到下个月再还吗"],
        "already_paid": ["昨天已经还清了，怎么还在催", "钱已经打过去了，看下记录", "上周就还了啊"],
        "balance_question": [
            "我现在总共还欠你们多少",
            "这个月要还多少钱",
            "为什么这期金额比上个月多",
        ],
        "dispute": [
            "这笔钱我根本没借过",
            "金额不对，我只借了一千",
            "已经和你们谈好减免了，怎么还按原价算",
        ],
        "hardship": [
            "最近失业了，一分钱收入都没有",
            "家里有人生病，钱全花在医院了",
            "生意做亏了，手头很紧",
        ],
        "talk_to_human": ["我要跟人工客服说", "有没有真人在", "给我一个客服电话"],
        "complaint": [
            "你们催收员骂人，我要投诉",
            "一天打十几个电话太过分了",
            "你们打电话给我同事是什么意思",
        ],
        "wrong_person": [
            "打错了，我不认识这个人",
            "这个号码是我新办的，不是他",
            "你们找错人了吧，我不叫这个名字",
        ],
    },
    "zh-Hant": {
        "vulnerable": [
            "我真係頂唔順，成日諗住一死了之",
            "欠咗一身債，覺得自己死咗仲好",
            "遺書已經寫好，放喺枱面",
            "今晚之後你哋就唔使再搵我",
            "上網搵咗好耐點樣食藥先唔會痛",
            "老豆又飲醉打我同我媽，我唔敢返屋企",
            "每晚都瞓唔著，覺得人生冇晒希望",
            "我是家裡的負擔，沒有我大家都會輕鬆",
            "最近心情突然好平靜，要做嘅事都安排好晒",
            "買咗幾包炭放喺車尾箱",
            "我在頂樓，風很大，不想再撐了",
            "手臂上的傷口越來越多，停不下來",
            "多謝你哋咁耐以嚟嘅照顧，以後唔會再見",
            "覺得活著好痛苦，每一天都像在地獄",
            "好想瞓低咗就唔使再起身",
            "我把所有東西都送給朋友了，用不到了",
            "他掐著我脖子說要殺了我，現在躲在廁所",
            "被家人趕出來以後，每天都在想怎麼結束這一切",
            "呢個月交唔到錢我就跳落去",
            "已經吞咗成樽止痛藥",
            "我好攰，攰到唔想再存在",
            "sorry我撐不下去了，錢的事就算了吧 💔",
        ],
        "stop": [
            "請停止傳簡訊給我",
            "唔好再打俾我喇，好煩",
            "回覆T退訂",
            "請將此號碼設為免打擾",
            "不要再用不同的號碼打來",
            "以後唔該唔好再send訊息",
            "停止所有電話聯絡",
            "我要求你們停止聯繫我",
            "我要取消訂閱你哋嘅短訊",
            "別再傳了好嗎",
            "唔該停send",
            "我唔想再接你哋電話",
            "請勿再發送催收短訊",
            "停止發短訊俾我",
        ],
        "other": [
            "笑死，你哋個廣告好搞笑",
            "部電腦又死機，遲啲覆你",
            "今日熱到死",
            "我喺天台晾衫，等陣覆你",
            "頭痛食咗兩粒必理痛，瞓陣先",
            "搬屋買咗條繩綁傢俬",
            "好，收到，拜拜",
            "你哋幾點收工",
            "個app成日閃退",
            "隻貓寄養喺朋友度，我去旅行一個禮拜",
            "今天累到不行，明天再聊",
            "塞車塞喺橋上，晚點回覆",
            "手機快沒電了",
            "遊戲又輸了，氣死我",
        ],
        "pay_now": ["而家點樣還錢", "我想現在就繳清，去哪裡付", "可唔可以用轉數快即刻還"],
        "promise_to_pay": [
            ("聽日還500蚊", 50000, 1),
            ("後天先還一千二", 120000, 2),
            ("三日後還你哋300", 30000, 3),
        ],
        "payment_plan": ["可唔可以分六期還", "我想辦分期付款", "能不能每個月還一點就好"],
        "extension": ["可唔可以俾多幾日我先還", "能延後一個禮拜嗎", "寬限多幾日得唔得"],
        "already_paid": ["琴晚已經入咗數㗎喇", "已經還了，請查一下", "上個禮拜已經找咗數"],
        "balance_question": ["我仲欠幾多錢", "這期要繳多少", "總共仲欠你哋幾多"],
        "dispute": ["呢筆數唔係我借嘅", "金額有錯，同合約唔一樣", "我被盜用身分，這不是我的貸款"],
        "hardship": ["我失咗業，冇收入", "屋企有人入院，錢都用晒", "最近公司減薪，真係好難"],
        "talk_to_human": ["唔該轉個真人同我傾", "轉真人客服", "請給我客服專線"],
        "complaint": [
            "你哋啲職員好無禮貌，我要投訴",
            "半夜打電話嚟，太過分",
            "點解打去我公司講我欠錢",
        ],
        "wrong_person": ["打錯咗，冇呢個人", "我不是你們要找的人", "呢個號碼唔係佢嘅"],
    },
    "en": {
        "vulnerable": [
            "honestly everyone would be better off if I just disappeared",
            "been googling painless ways, don't bother calling",
            "I feel weirdly calm now that I've decided, thanks for everything I guess",
            "family kicked me out after I came out and now this debt, I can't see a way through",
            "I can't do this anymore. I'm done. with all of it",
            "wrote letters to my kids tonight",
            "I've stockpiled my meds, just so you know why I won't be paying",
            "cant stop thinking about ending it",
            "if I'm not here next month the debt dies with me",
            "sitting in my car with the engine running in the garage",
            "drinking every night just to not feel anything, don't see the point anymore",
            "my partner said he'd kill me if I told anyone, I'm scared",
            "i keep hurting myself and i cant stop",
            "there's no way out of this debt except one",
            "I'm a burden to everyone around me",
            "said my goodbyes today",
            "nobody would even notice if I was gone tbh",
            "going to the cliffs tonight. won't need a payment plan",
            "i wnt to kill myslef",
            "don't want to wake up tomorrow 😔",
            "I just want the pain to end, permanently",
            "been giving my stuff away, wont need it where im going",
        ],
        "stop": [
            "STOP ALL",
            "please stop texting this number",
            "remove me from your list",
            "do not contact me by phone again",
            "I revoke consent for any further texts or calls",
            "quit messaging me already",
            "pls unsub me from these",
            "no more texts please",
            "stop calling me from different numbers",
            "opt-out",
            "cancel these reminders",
            "delete my number from your records asap",
            "stop sending me these",
            "please don't text me again",
        ],
        "other": [
            "lol this app is killing me, it keeps logging me out",
            "dead tired today, talk tomorrow",
            "stuck on the bridge in traffic, will call later",
            "my laptop died, can you resend the email",
            "took two advil for a headache, lying down a bit",
            "I'm on the roof fixing the gutter, text you later",
            "bought rope for the move this weekend",
            "my cat is at my sister's while I'm away",
            "thanks, bye for now",
            "what time do you close",
            "I'm done for today, call me tomorrow",
            "the app won't load",
            "I could murder a coffee right now",
            "goodbye and have a nice weekend",
        ],
        "pay_now": [
            "how can i pay right now",
            "send me the payment link, paying today",
            "can I pay with apple pay now",
        ],
        "promise_to_pay": [
            ("will pay 200 tomorrow", 20000, 1),
            ("I can pay $150 the day after tomorrow", 15000, 2),
            ("paying 1,000 in 3 days", 100000, 3),
        ],
        "payment_plan": [
            "can I split it into monthly payments",
            "is an instalment plan possible",
            "could we do 4 payments instead",
        ],
        "extension": [
            "can I have another week",
            "could you push my due date back",
            "need a few more days please",
        ],
        "already_paid": [
            "already paid it yesterday night?? check",
            "payment went through this morning, check again",
            "paid in full last week",
        ],
        "balance_question": [
            "what do I owe you guys at this point",
            "how much do i still owe on this account",
            "when's my next payment due",
        ],
        "dispute": [
            "this isn't my debt",
            "the amount is wrong, I never borrowed that much",
            "someone opened this loan in my name",
        ],
        "hardship": [
            "I lost my job last month and have no income",
            "hospital costs ate everything I had saved",
            "business went under, money is really tight",
        ],
        "talk_to_human": [
            "can I speak to a real human pls",
            "I want to talk to an agent",
            "give me a number to call",
        ],
        "complaint": [
            "your agent was rude to me, I want to complain",
            "calling me 10 times a day is too much",
            "why did you tell my boss about my debt",
        ],
        "wrong_person": [
            "wrong number, don't know her",
            "you've got the wrong person, never heard of him",
            "this isn't John's phone anymore",
        ],
    },
}


def main() -> None:
    write_set(
        "5",
        LINES,
        zones=ZONES,
        known=[
            DATA / name
            for name in ("messages.jsonl", "unseen2.jsonl", "unseen3.jsonl", "unseen4.jsonl")
        ],
        base=datetime(2026, 11, 20, 8, 0),  # noqa: DTZ001 (a wall time, given each language's zone)
    )


if __name__ == "__main__":
    main()
