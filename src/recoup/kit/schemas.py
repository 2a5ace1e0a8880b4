from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator


def _no_nul(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL characters are not accepted")
    elif isinstance(value, dict):
        for v in value.values():
            _no_nul(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _no_nul(v)


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        """No text we store may hold NUL (PostgreSQL refuses it): refuse it as invalid input."""
        if isinstance(data, dict):
            _no_nul(data)
        return data


T = TypeVar("T")


class ListResource(Schema, Generic[T]):
    items: list[T] = Field(description="This page of results")
    total: int = Field(description="Results across all pages", examples=[1])
    limit: int = Field(description="Page size asked for", examples=[50])
    offset: int = Field(description="Results skipped before this page", examples=[0])
