from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid", str_strip_whitespace=True)


T = TypeVar("T")


class ListResource(Schema, Generic[T]):
    items: list[T] = Field(description="This page of results")
    total: int = Field(description="Results across all pages", examples=[1])
    limit: int = Field(description="Page size asked for", examples=[50])
    offset: int = Field(description="Results skipped before this page", examples=[0])
