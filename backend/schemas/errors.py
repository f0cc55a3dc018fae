"""The one error body every endpoint answers with (404, 413, 414, 422, 500, 503, ...)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorItem(BaseModel):
    loc: str = Field(description="where, e.g. body.items.0.response or query.run")
    msg: str = Field(description="what is wrong (never the value sent)")


class ErrorBody(BaseModel):
    status: int = Field(description="the HTTP status code, repeated")
    error: str = Field(description="a short code: not_found, validation_error, limit_exceeded, ...")
    detail: str = Field(description="a sentence saying what went wrong and what to do")
    errors: list[ErrorItem] | None = Field(
        default=None, description="validation errors only: at most 20 problems"
    )
