"""CPU a call of parts of a message's re-check: the content rule (one scan per category or at
once), money formatting (Babel or the locale's pattern), the pay link, the frequency caps of a
Chinese contact (every cap pack's rule for CN, no history and two earlier messages; the general
path with the day's bounds computed each time, against `tally` with its short cut and remembered
bounds), the guard's whole `decide` for a Chinese SMS with its text (run it with an older
commit's `src/` on PYTHONPATH for that commit's figure), and a Chinese reminder rendered by Jinja
or filled in directly (`templates._fill`) (docs/benchmarks.md, "The outbox dispatcher").

    python -m benchmarks.micro_dispatch_parts
"""

import datetime as dt
import time

from babel import Locale

from recoup.arrangements.links import LIFETIME, PATH, pay_link
from recoup.compliance import content, localtime
from recoup.compliance import tally as tally_module
from recoup.compliance.facts import Facts
from recoup.compliance.guard import decide
from recoup.compliance.packs import CapRule, load_guard
from recoup.compliance.tally import Event, Subject, counted, tally, tally_all, windowed
from recoup.contact import templates
from recoup.kit import money
from recoup.kit.tokens import sign_token

text = "【Recoup Wallet】张伟您好，您的账单¥1,234.56已逾期3天，请尽快还款：http://127.0.0.1:8000/p/eyJrIjoicGF5IiwiYyI6MTIzfQ.abcdefghijklmnopqrstuvwxyza 回复TD退订"
cats = tuple(
    sorted(
        [
            "threat",
            "insult",
            "shaming",
            "impersonation",
            "false_legal",
            "new_borrowing",
            "collection_fee",
            "private_channel",
            "intrusion",
        ]
    )
)
loc = Locale.parse("zh_CN")
now = dt.datetime(2026, 6, 1, 11, tzinfo=dt.UTC)
key = b"k" * 32


caps = [
    r
    for pack in load_guard().packs_for("CN", "creditor")
    for r in pack.rules
    if isinstance(r, CapRule)
]
shanghai = ("Asia/Shanghai",)
subject = Subject(now, shanghai, debt_id="1")
earlier = [
    Event(at=now - dt.timedelta(hours=h), channel="sms", result="sent", debt_ids=("1",))
    for h in (3, 30)
]


def computed_start(at, zones, days_back=0):
    return localtime._day_start.__wrapped__(at, tuple(zones), days_back)


def computed_end(at, zones, days_ahead=1):
    return localtime._day_end.__wrapped__(at, tuple(zones), days_ahead)


def general(rules, events, subject):
    """`tally` as it was: the windowed count whatever was counted, the day's bounds computed."""
    start, end = tally_module.day_start, tally_module.day_end
    tally_module.day_start, tally_module.day_end = computed_start, computed_end
    try:
        return [windowed(r, counted(r, events, subject), subject) for r in rules]
    finally:
        tally_module.day_start, tally_module.day_end = start, end


guard = load_guard()
reminder = next(t for t in templates.shipped() if t.channel == "sms" and t.language == "zh-CN")
variables = templates.sample("zh-CN")


def decide_sms(i):
    """The send-time guard for a Chinese SMS with its rendered text (one of a batch's many)."""
    f = Facts(
        at=now,
        channel="sms",
        jurisdiction="CN",
        zones=shanghai,
        dpd=i % 40,
        electronic_consent=True,
        content_text=text + str(i),
        content_language="zh-CN",
        creditor_name="Recoup Wallet",
    )
    debt = Subject(now, shanghai, debt_id=str(i))
    return decide(guard, f, count=lambda caps: tally_all(caps, [], debt))


def jinja(i):
    compiled = templates._compiled("zh_CN", reminder.body)
    return templates._bounded_render(compiled, variables)


def filled(i):
    return templates._fill("zh_CN", reminder.body, variables)


def cpu(f, n):
    t = time.process_time()
    for i in range(n):
        f(i)
    return (time.process_time() - t) / n * 1e6


for _round in range(2):
    a = cpu(lambda i: [content.found(text + str(i), c, "zh-CN") for c in cats], 3000)
    b = cpu(lambda i: content.found_each(text + str(i), cats, "zh-CN"), 3000)
    c = cpu(lambda i: money._babel(100000 + i, "CNY", loc), 3000)
    d = cpu(lambda i: money.format_money(100000 + i, "CNY", loc), 3000)
    e = cpu(
        lambda i: (
            "http://x"
            + PATH
            + sign_token(
                key,
                {"k": "pay", "c": i, "n": i, "i": int(now.timestamp())},
                expires_at=now + LIFETIME,
            )
        ),
        3000,
    )
    f = cpu(lambda i: pay_link("http://x", key, customer_id=i, contact_id=i, now=now), 3000)
    g0 = cpu(lambda i: general(caps, [], subject), 3000)
    t0 = cpu(lambda i: [tally(r, [], subject) for r in caps], 3000)
    g2 = cpu(lambda i: general(caps, earlier, subject), 3000)
    t2 = cpu(lambda i: [tally(r, earlier, subject) for r in caps], 3000)
    print(
        f"{len(caps)} caps, no history: general {g0:.1f} / tally {t0:.1f} µs; "
        f"two earlier messages: general {g2:.1f} / tally {t2:.1f} µs"
    )
    print(
        f"content per category {a:.1f} / at once {b:.1f} µs; money babel {c:.1f} / shape {d:.1f} µs; pay link sign_token {e:.1f} / direct {f:.1f} µs"
    )
    h = cpu(decide_sms, 3000)
    j = cpu(jinja, 3000)
    k = cpu(filled, 3000) if hasattr(templates, "_fill") else float("nan")  # absent before it
    print(
        f"decide, a CN SMS with its text {h:.1f} µs; {reminder.name} by Jinja {j:.1f} / filled {k:.1f} µs"
    )
