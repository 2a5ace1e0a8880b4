"""Letters the channel tests print: a US validation notice and a Chinese reminder."""

from __future__ import annotations

import datetime as dt

from recoup.channels.letter import Letter, PostalAddress

POSTED = dt.date(2026, 6, 16)  # a Tuesday
US_VALUES = {
    "itemization_creditor": "Recoup Wallet Lending LLC",
    "account_number": "****4821",
    "current_creditor": "Recoup Wallet Lending LLC",
    "itemization_date": "March 1, 2026",
    "itemization_amount": "$1,234.56",
    "interest_since": "$0.00",
    "fees_since": "$25.00",
    "payments_since": "$100.00",
    "credits_since": "$9.56",
    "current_amount": "$1,150.00",
}
CN_VALUES = {
    "creditor": "某某消费金融有限公司",
    "amount": "¥4,560.00",
    "how_to_pay": "打开钱包App“我的账单”还款，或访问 https://pay.example/r/AbC123",
    "complaints": "客服热线 400-000-0000（工作日9:00-18:00）",
}


def us_letter(name: str = "Alex Doe", **fields: str) -> Letter:
    return Letter(
        jurisdiction="US",
        language="en",
        sender=PostalAddress(
            "Recoup Wallet Collections", ("PO Box 100",), "New York", "NY", "10001", "US"
        ),
        recipient=PostalAddress(name, ("1 Main St", "Apt 2"), "Albany", "NY", "12207", "US"),
        posted=POSTED,
        subject="Your account is past due",
        body="Dear Alex,\nYour payment is 95 days late. You can pay or set up a plan online.",
        fields={**US_VALUES, **fields},
    )


def cn_letter(name: str = "张伟") -> Letter:
    return Letter(
        jurisdiction="CN",
        language="zh-CN",
        sender=PostalAddress(
            "某某消费金融有限公司", ("朝阳区建国路1号",), "北京市", "北京", "100020", "CN"
        ),
        recipient=PostalAddress(name, ("海淀区中关村大街2号",), "北京市", "北京", "100080", "CN"),
        posted=POSTED,
        subject="逾期还款提醒函",
        body="张伟您好：\n您的账单已逾期95天，请尽快还款。如有困难，可申请分期。",
        fields=dict(CN_VALUES),
    )
