from __future__ import annotations

import datetime as dt

from pydantic import Field

from recoup.kit.schemas import Schema


class InboxMessage(Schema):
    id: int = Field(description="Message id; the read receipt names it", examples=[42])
    customer_id: int = Field(examples=[7])
    language: str = Field(description="zh-CN, zh-TW or en", examples=["zh-CN"])
    subject: str | None = Field(None, examples=[None])
    body: str = Field(
        description="The text as the debtor sees it", examples=["您的账单已逾期 3 天"]
    )
    created_at: dt.datetime = Field(description="When it reached the inbox (UTC)")
    read_at: dt.datetime | None = Field(None, description="When the debtor first read it (UTC)")
