from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.crypto import EncryptedString
from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class CaseKind(StrEnum):
    dispute = "dispute"  # the debtor contests the debt: collection pauses until it is answered
    hardship = "hardship"  # the debtor cannot pay for a reason: a person reviews, pressure stops
    complaint = "complaint"  # about how we collect: a person answers
    # The debtor asks a person to review a decision made by automated means (PIPL art. 24): the
    # learner and the shipped policies stop deciding for the account until a person answers.
    review = "review"


class CaseStatus(StrEnum):
    open = "open"
    resolved = "resolved"
    withdrawn = "withdrawn"


class Case(IdMixin, CreatedMixin, Model):
    """Something a debtor raised that a person must handle. A dispute or hardship case holds a
    delinquency pause (`pause_id`), which the strategy and the guard read: pending contacts are
    cancelled in the transaction that opens it, and none is planned until it is resolved."""

    __tablename__ = "cases"

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    account_id: Mapped[int | None] = mapped_column(BigId, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)  # a code from the kind's list
    text: Mapped[str | None] = mapped_column(EncryptedString("cases.text"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    opened_by: Mapped[str] = mapped_column(String(128), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # portal, api, agent
    pause_id: Mapped[int | None] = mapped_column(BigId)
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolution: Mapped[str | None] = mapped_column(EncryptedString("cases.resolution"))


class SurveyResponse(IdMixin, CreatedMixin, Model):
    """The debtor's answer to the post-repayment survey, once per survey message (`subject`:
    `contact:<id>` for the message's link, `customer` for a link no message carried). The scores
    are the survey's questions; the free text is personal and sealed like a case's words."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("customer_id", "subject"),)

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(32), nullable=False)
    treated: Mapped[int] = mapped_column(Integer, nullable=False)  # how were you treated, 1-5
    clear: Mapped[int] = mapped_column(Integer, nullable=False)  # was it clear, 1-5
    self_service_again: Mapped[bool] = mapped_column(Boolean, nullable=False)
    text: Mapped[str | None] = mapped_column(EncryptedString("survey_responses.text"))
