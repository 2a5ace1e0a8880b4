from __future__ import annotations

import datetime as dt

from pydantic import Field

from recoup.identity.permissions import Permission, Role
from recoup.kit.schemas import Schema


class SignIn(Schema):
    username: str = Field(min_length=1, max_length=64, examples=["chen.gang"])
    password: str = Field(min_length=1, max_length=1024)


class Me(Schema):
    kind: str = Field(examples=["staff"])
    name: str = Field(examples=["chen.gang"])
    role: Role | None
    permissions: list[Permission]


class StaffCreate(Schema):
    username: str = Field(
        min_length=2, max_length=64, pattern=r"^[a-z0-9._-]+$", examples=["chen.gang"]
    )
    display_name: str = Field(min_length=1, max_length=128, examples=["陈刚"])
    role: Role
    password: str = Field(min_length=12, max_length=1024, description="At least 12 characters")


class Staff(Schema):
    id: int
    username: str
    display_name: str
    role: str
    created_at: dt.datetime


class ApiKeyCreate(Schema):
    name: str = Field(min_length=1, max_length=128, examples=["wallet backend"])
    scopes: list[Permission] = Field(min_length=1, examples=[["payments:write", "accounts:read"]])
    expires_at: dt.datetime | None = None


class ApiKey(Schema):
    id: int
    prefix: str = Field(description="Identifies the key; the key itself is never shown again")
    name: str
    scopes: list[str]
    created_by: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The key. Shown once: store it now.")
