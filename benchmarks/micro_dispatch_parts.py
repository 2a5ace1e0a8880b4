"""CPU a call of three parts of a message's re-check: the content rule (one scan per category or at
once), money formatting (Babel or the locale's pattern) and the pay link (docs/benchmarks.md, "The
outbox dispatcher").

    python -m benchmarks.micro_dispatch_parts
"""

import datetime as dt
import time

from babel import Locale

from recoup.arrangements.links import LIFETIME, PATH, pay_link
from recoup.compliance import content
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
    print(
        f"content per category {a:.1f} / at once {b:.1f} µs; money babel {c:.1f} / shape {d:.1f} µs; pay link sign_token {e:.1f} / direct {f:.1f} µs"
    )
