from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from recoup.kit.crypto import EncryptedString
from recoup.kit.indexes import email_index, national_id_index, phone_index
from recoup.kit.types import UTCDateTime
from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class PhoneType(StrEnum):
    mobile = "mobile"
    home = "home"
    work = "work"
    other = "other"


class ContactSource(StrEnum):
    """Where a phone or email came from; rules treat a number the debtor gave differently."""

    customer = "customer"
    wallet = "wallet"
    agent = "agent"
    third_party = "third_party"


class Customer(IdMixin, CreatedMixin, Model):
    __tablename__ = "customers"

    external_ref: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(EncryptedString("customers.name"), nullable=False)
    national_id: Mapped[str | None] = mapped_column(EncryptedString("customers.national_id"))
    national_id_index: Mapped[str | None] = mapped_column(String(64), index=True)
    preferred_language: Mapped[str] = mapped_column(String(16), nullable=False, default="zh-CN")
    # When the debtor said which language to write to them in (the portal's contact preferences, or
    # an agent on their word); None: `preferred_language` is the wallet's or the default, and an
    # answer to a message may follow the language the debtor wrote it in.
    language_chosen_at: Mapped[dt.datetime | None]
    jurisdiction: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    timezones: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    # Only the year of birth is kept (a full date given is cut to its year: data minimisation);
    # with `sex` ("F", "M", "X") it serves the age-band strategy fact and the fairness report.
    birth_year: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))

    phones: Mapped[list[CustomerPhone]] = relationship(
        lazy="raise", order_by="CustomerPhone.position", cascade="all, delete-orphan"
    )
    emails: Mapped[list[CustomerEmail]] = relationship(
        lazy="raise", order_by="CustomerEmail.position", cascade="all, delete-orphan"
    )
    addresses: Mapped[list[CustomerAddress]] = relationship(
        lazy="raise", order_by="CustomerAddress.position", cascade="all, delete-orphan"
    )

    @validates("national_id")
    def _index_national_id(self, _key: str, value: str | None) -> str | None:
        self.national_id_index = national_id_index(value) if value else None
        return value


class CustomerPhone(IdMixin, Model):
    __tablename__ = "customer_phones"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True, nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    number: Mapped[str] = mapped_column(EncryptedString("customer_phones.number"), nullable=False)
    number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False, default=PhoneType.mobile)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default=ContactSource.customer)

    @validates("number")
    def _index_number(self, _key: str, value: str) -> str:
        self.number_index = phone_index(value)
        return value


class CustomerEmail(IdMixin, Model):
    __tablename__ = "customer_emails"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True, nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    address: Mapped[str] = mapped_column(EncryptedString("customer_emails.address"), nullable=False)
    address_index: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default=ContactSource.customer)

    @validates("address")
    def _index_address(self, _key: str, value: str) -> str:
        self.address_index = email_index(value)
        return value


class CustomerAddress(IdMixin, Model):
    """Country and region stay clear (they pick rule packs and zones); the rest is sealed."""

    __tablename__ = "customer_addresses"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True, nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    region: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(EncryptedString("customer_addresses.city"))
    postal_code: Mapped[str | None] = mapped_column(
        EncryptedString("customer_addresses.postal_code")
    )
    line: Mapped[str | None] = mapped_column(EncryptedString("customer_addresses.line"))
    # When a letter sent here came back returned to sender: no letter goes here again.
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
