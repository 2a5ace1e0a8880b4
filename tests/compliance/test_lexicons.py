"""The content lexicons against the China Banking Association's banned behaviours (CBA 2026
guideline, the "red lines" of regulation-rules §2.1), each in its common phrasings, in simplified
and traditional characters, one message at a time; and ordinary reminders that must pass.

Red line 8 ("any other illegal means") is a catch-all no lexicon can list. A case fails when the
lexicon phrases its message contains are removed (e.g. 借新还旧 from zh-Hans: "借新还旧也是一个办法"
passes)."""

from __future__ import annotations

import pytest

from recoup.compliance import check_content, load_guard

pytestmark = pytest.mark.pure
GUARD = load_guard()

# behaviour: (the categories that may catch it, simplified phrasings, traditional phrasings)
BEHAVIOURS: dict[str, tuple[set[str], list[str], list[str]]] = {
    "1 impersonating administrative or judicial organs": (
        {"impersonation"},
        [
            "我们是公安局经侦大队，请配合调查。",
            "法院已经受理你的案子。",
            "我是派出所民警，你的问题需要说明。",
            "检察院将对你提起公诉。",
            "本案已移交公检法处理。",
            "执行局工作人员明天联系你。",
            "网警已经掌握你的信息。",
            "我是仲裁委的工作人员。",
            "司法机关已介入。",
        ],
        [
            "我們是公安局經偵大隊，請配合調查。",
            "法院已經受理你的案子。",
            "我是派出所民警，你的問題需要說明。",
            "檢察院將對你提起公訴。",
            "本案已移交公檢法處理。",
            "執行局工作人員明天聯繫你。",
            "網警已經掌握你的資訊。",
            "我是仲裁委的工作人員。",
            "司法機關已介入。",
        ],
    ),
    "2 spreading private information, intimidation, insults, threats, violence": (
        {"insult", "shaming", "threat"},
        [
            "不还钱就后果自负。",
            "再不还就找人收拾你。",
            "你这个老赖，真不要脸。",
            "我们会把这件事告诉你的亲友。",
            "出门小心。",
            "你的照片和身份证会发给所有人。",
            "你就是个骗子。",
            "信不信打断你的腿。",
            "我们已经联系你的亲友了。",
        ],
        [
            "不還錢就後果自負。",
            "再不還就找人收拾你。",
            "你這個老賴，真不要臉。",
            "我們會把這件事告訴你的親友。",
            "出門小心。",
            "你的照片和身份證會發給所有人。",
            "你就是個騙子。",
            "信不信打斷你的腿。",
            "我們已經聯繫你的親友了。",
        ],
    ),
    "3 making up or exaggerating facts (fake blacklists)": (
        {"false_legal"},
        [
            "你已被列入征信黑名单。",
            "这会影响子女上学。",
            "你的子女考公政审过不了。",
            "我们将冻结你的银行卡和微信。",
            "你会被限制乘坐高铁和飞机。",
            "你已涉嫌信用卡诈骗。",
            "全国联网后你哪里都办不了事。",
            "你马上会被列为失信被执行人。",
            "你涉嫌诈骗罪。",
        ],
        [
            "你已被列入徵信黑名單。",
            "這會影響子女上學。",
            "你的子女考公政審過不了。",
            "我們將凍結你的銀行卡和微信。",
            "你會被限制乘坐高鐵和飛機。",
            "你已涉嫌信用卡詐騙。",
            "全國聯網後你哪裡都辦不了事。",
            "你馬上會被列為失信被執行人。",
            "你涉嫌詐騙罪。",
        ],
    ),
    "4a charging fees in the name of collection": (
        {"collection_fee"},
        [
            "需另付催收费300元。",
            "请先缴纳上门费。",
            "本次催收服务费由你承担。",
            "交了结案费就不再联系你。",
            "缴纳销案费后撤销记录。",
            "撤诉费请今天转账。",
            "外访费200元请一并支付。",
            "交停催费我们就停止。",
            "加急费另算。",
        ],
        [
            "需另付催收費300元。",
            "請先繳納上門費。",
            "本次催收服務費由你承擔。",
            "交了結案費就不再聯繫你。",
            "繳納銷案費後撤銷記錄。",
            "撤訴費請今天轉賬。",
            "外訪費200元請一併支付。",
            "交停催費我們就停止。",
            "加急費另算。",
        ],
    ),
    "4b inducing new borrowing to repay": (
        {"new_borrowing"},
        [
            "借新还旧也是一个办法。",
            "你可以申请新贷款用于还款。",
            "以贷养贷先把这笔还上。",
            "去其他平台借一笔先还上。",
            "办张信用卡还这笔钱。",
            "找朋友借钱还给我们。",
            "信用卡套现还款也行。",
            "拆东墙补西墙也得先还我们。",
            "去网贷还一下就行。",
            "向朋友借点钱。",
        ],
        [
            "借新還舊也是一個辦法。",
            "你可以申請新貸款用於還款。",
            "以貸養貸先把這筆還上。",
            "去其他平台借一筆先還上。",
            "辦張信用卡還這筆錢。",
            "找朋友借錢還給我們。",
            "信用卡套現還款也行。",
            "拆東牆補西牆也得先還我們。",
            "去網貸還一下就行。",
            "向朋友借點錢。",
        ],
    ),
    "5 posting notices or lawyer's letters in public places": (
        {"shaming"},
        [
            "我们会在你小区公告栏贴通知。",
            "律师函会贴在你家门口。",
            "明天在你公司门口拉横幅。",
            "我们会发到你们业主群。",
            "把这件事写成大字报。",
            "在你公司楼下散发传单。",
            "把通知函发到朋友圈。",
            "我们会公示你的信息。",
            "将你的信息曝光。",
        ],
        [
            "我們會在你社區公告欄貼通知。",
            "律師函會貼在你家門口。",
            "明天在你公司門口拉橫幅。",
            "我們會發到你們業主群。",
            "把這件事寫成大字報。",
            "在你公司樓下散發傳單。",
            "把通知函發到朋友圈。",
            "我們會公示你的資訊。",
            "將你的資訊曝光。",
        ],
    ),
    "6 a collector's private phone or social account": (
        {"private_channel"},
        [
            "加我微信详谈。",
            "有问题加我的微信。",
            "这是我私人微信。",
            "打我的私人电话。",
            "加我ＱＱ 12345。",
            "款项转到我个人账户。",
            "直接转账到我个人卡上。",
            "私聊我可以少付点。",
            "用我个人手机联系你。",
        ],
        [
            "加我微信詳談。",
            "有問題加我的微信。",
            "這是我私人微信。",
            "打我的私人電話。",
            "加我ＱＱ 12345。",
            "款項轉到我個人帳戶。",
            "直接轉賬到我個人卡上。",
            "私聊我可以少付點。",
            "用我個人手機聯繫你。",
        ],
    ),
    "7 entering private premises without consent": (
        {"intrusion", "threat"},
        [
            "我们明天到你家里找你。",
            "今晚去你家找你谈。",
            "我们已经在你家门口等着了。",
            "下班时在楼下堵你。",
            "我们的人会在小区蹲守。",
            "明天到你公司找你。",
            "我们会去你老家。",
            "不开门我们就闯进去。",
            "到你单位找你领导。",
        ],
        [
            "我們明天到你家裡找你。",
            "今晚去你家找你談。",
            "我們已經在你家門口等著了。",
            "下班時在樓下堵你。",
            "我們的人會在社區蹲守。",
            "明天到你公司找你。",
            "我們會去你老家。",
            "不開門我們就闖進去。",
            "到你單位找你領導。",
        ],
    ),
}
BENIGN = {
    "zh-Hans": [
        "【乐还钱包】您的账单已逾期3天，应还1,250.00元，请及时还款。回复TD退订",
        "您好，您的贷款本月应还款日为15日，如有困难可申请分期。",
        "您可以通过App还款，或致电客服热线。",
        "如对账单有异议，请在7日内联系我们。",
        "账单将寄到你家，请注意查收。",
        "逾期可能影响您的个人征信记录。",
    ],
    "zh-Hant": [
        "【樂還錢包】您的帳單已逾期3天，應還1,250.00元，請及時還款。回覆TD退訂",
        "您好，您的貸款本月應還款日為15日，如有困難可申請分期。",
        "您可以透過App還款，或致電客服熱線。",
        "如對帳單有異議，請在7日內聯繫我們。",
        "帳單將寄到你家，請注意查收。",
        "逾期可能影響您的個人徵信記錄。",
    ],
}

CASES = [
    pytest.param(language, text, categories, id=f"{name.split()[0]}-{language}-{i}")
    for name, (categories, hans, hant) in BEHAVIOURS.items()
    for language, texts in (("zh-Hans", hans), ("zh-Hant", hant))
    for i, text in enumerate(texts)
]


def forbidden(text: str, language: str) -> set[str]:
    reasons = check_content(
        GUARD, text, language=language, channel="sms", jurisdiction="CN", creditor_name="乐还钱包"
    )
    return {str(r.detail.get("category")) for r in reasons if r.code.value == "CONTENT_FORBIDDEN"}


@pytest.mark.parametrize(("language", "text", "categories"), CASES)
def test_each_phrasing_of_a_banned_behaviour_is_refused(
    language: str, text: str, categories: set[str]
) -> None:
    assert forbidden(text, language) & categories, f"{text!r} passed the {language} lexicon"


def test_every_behaviour_has_eight_phrasings_in_each_script() -> None:
    for name, (_, hans, hant) in BEHAVIOURS.items():
        assert len(set(hans)) >= 8, name
        assert len(set(hant)) >= 8, name


@pytest.mark.parametrize(
    ("language", "text"),
    [(language, text) for language, texts in BENIGN.items() for text in texts],
)
def test_an_ordinary_reminder_passes(language: str, text: str) -> None:
    assert forbidden(text, language) == set()


def test_fees_private_channels_and_visits_are_china_s_red_lines() -> None:
    """Red lines 4, 6 and 7 are the CBA guideline's (rule "cn.red_lines"), not every pack's."""

    def rules_for(jurisdiction: str) -> set[str]:
        reasons = check_content(
            GUARD, "加我微信详谈。", language="zh-CN", channel="sms", jurisdiction=jurisdiction
        )
        return {r.rule for r in reasons if r.code.value == "CONTENT_FORBIDDEN"}

    assert rules_for("CN") == {"cn.red_lines"}
    assert rules_for("US") == set()


class TestEachCategoryAtOnce:
    def test_found_each_gives_what_found_gives_category_by_category(self) -> None:
        """The guard asks `found_each` once per rendered text (a union of the categories' phrases
        first, so a clean text is scanned once). Catches a union that misses a category's phrase
        (a category left out of it, English words matched without their boundaries): texts
        holding one phrase of that category would then find nothing."""
        import random

        from recoup.compliance import content

        rng = random.Random(5)
        categories = {lang: sorted(content.lexicon(lang).categories) for lang in content.LANGUAGES}
        phrases = [
            p
            for lang in content.LANGUAGES
            for c in categories[lang]
            for p in __import__("yaml").safe_load(
                (
                    __import__("importlib").resources.files("recoup.compliance")
                    / "lexicons"
                    / f"{lang}.yaml"
                ).read_text(encoding="utf-8")
            )["categories"][c]
        ]
        noise = ["您好，", "Hello ", "请按时还款。", "pay now", "x", "。", " ", "ＳＴＯＰ"]
        hits = 0
        for _ in range(60):
            parts = [rng.choice(noise) for _ in range(rng.randrange(1, 5))]
            for _ in range(rng.choice([0, 0, 1, 2])):
                parts.insert(rng.randrange(len(parts) + 1), rng.choice(phrases))
            text = "".join(parts)
            for language in (None, "en", "zh-TW"):
                for lang in content.LANGUAGES:
                    asked = tuple(
                        rng.sample(categories[lang], rng.randrange(1, len(categories[lang]) + 1))
                    )
                    each = content.found_each(text, asked, language)
                    assert each == {c: content.found(text, c, language) for c in asked}
                    hits += sum(1 for h in each.values() if h)
        assert hits > 30
