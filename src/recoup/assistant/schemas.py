"""What the e-mail provider posts when a debtor replies to one of our e-mails (signed JSON), and
what Recoup answers: the same for every sender, so that nothing says whether an address is known."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from recoup.kit.schemas import Schema

# An e-mail's text past this is not a reply a person typed (the quoted thread is cut anyway).
MAX_EMAIL_TEXT = 20_000


class InboundEmail(Schema):
    """A reply received by the e-mail provider, as it posts it to Recoup (signed)."""

    model_config = ConfigDict(populate_by_name=True)

    sender: str = Field(
        alias="from",
        min_length=3,
        max_length=320,
        description="The From header: an address, with or without a display name",
        examples=["Zhang Wei <zhang.wei@example.com>"],
    )
    to: str = Field(
        max_length=320,
        description="The address the reply was sent to (ours)",
        examples=["billing@recoup.example"],
    )
    subject: str = Field("", max_length=998, description="The Subject header (RFC 5322's limit)")
    text: str = Field(
        max_length=MAX_EMAIL_TEXT,
        description="The plain-text body; the quoted message below the reply is ignored",
        examples=["下周五还500"],
    )
    message_id: str = Field(
        min_length=1,
        max_length=998,
        description="The Message-ID header: the same reply posted twice is handled once",
        examples=["<CAF1234@mail.example.com>"],
    )
    in_reply_to: str | None = Field(
        None, max_length=998, description="The In-Reply-To header, when there is one"
    )


class EmailAccepted(Schema):
    accepted: bool = Field(description="Always true: the reply was received", examples=[True])
