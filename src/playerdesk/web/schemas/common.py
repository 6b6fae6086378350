from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

T = TypeVar("T")


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refused here it is a 422, not a database error.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _check_strings(value: object) -> object:
    if isinstance(value, str):
        _storable(value)
    elif isinstance(value, list | tuple | set):
        for item in value:
            _check_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    return value


SafeStr = Annotated[str, AfterValidator(_storable)]
"""A string from a query or path parameter that the database can store and compare."""


class RequestModel(BaseModel):
    """Unknown fields are a client mistake, not something to ignore silently."""

    model_config = ConfigDict(extra="forbid", str_max_length=100_000)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: object) -> object:
        return _check_strings(value)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class ProblemError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response of the API is shaped."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemError] = Field(default_factory=list)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "A client mistake; `errors` names the fields at fault",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    },
    503: {
        "description": "The server is overloaded: nothing was done; retry after `Retry-After` "
        "seconds (with the same `client_msg_id` where there is one)",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    },
}
