"""Every error the API returns is JSON: ``{"status", "error", "detail"}`` (validation
errors add ``errors``: one ``{"loc", "msg"}`` per problem). Domain exceptions map to
HTTP in ``install_error_handlers``; anything unexpected is caught by
``backend.middleware.UnexpectedErrorMiddleware``, logged once with its traceback and
answered with a plain 500, never the traceback.

Error bodies are written with ASCII escapes: a detail that quotes client text (a
policy name, a dataset name) stays encodable even when that text holds a lone
surrogate.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from preflens.errors import (
    DataFormatError,
    IncomparableError,
    ModelError,
    NotFoundError,
    PrefLensError,
    QueryError,
    RowError,
)

log = logging.getLogger(__name__)


class ApiError(PrefLensError):
    """An error with its own HTTP status (e.g. 503 when no reward model is loaded)."""

    def __init__(self, status: int, message: str, error: str | None = None):
        super().__init__(message)
        self.status = status
        self.error = error or HTTPStatus(status).phrase.lower().replace(" ", "_")


class LimitError(ApiError):
    """A request goes over a configured limit; the message names the setting."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(status, message, "limit_exceeded")


def error_body(status: int, message: str, error: str | None = None, **extra: object) -> dict:
    error = error or HTTPStatus(status).phrase.lower().replace(" ", "_")
    return {"status": status, "error": error, "detail": message, **extra}


class ErrorJSONResponse(JSONResponse):
    """JSON with ASCII escapes (never fails to encode) and no NaN."""

    def render(self, content: object) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False).encode("ascii")


def error_response(status: int, message: str, error: str | None = None, **extra) -> JSONResponse:
    return ErrorJSONResponse(error_body(status, message, error, **extra), status_code=status)


STATUS_OF = (
    (NotFoundError, 404),
    (IncomparableError, 409),  # before QueryError, its base class
    (QueryError, 422),
    (DataFormatError, 422),
    (RowError, 422),
    (ModelError, 503),
)


def _domain(request: Request, exc: PrefLensError) -> JSONResponse:
    if isinstance(exc, ApiError):
        return error_response(exc.status, str(exc), exc.error)
    status = next((code for kind, code in STATUS_OF if isinstance(exc, kind)), 400)
    return error_response(status, str(exc))


MAX_ERRORS = 20  # validation problems listed in `errors` (the count is in `detail`)
MAX_LOC_CHARS = 200  # a location can name a client's key: keep the echo short


def _loc(loc: tuple) -> str:
    text = ".".join(str(part) for part in loc)
    return text if len(text) <= MAX_LOC_CHARS else text[:MAX_LOC_CHARS] + "..."


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    # Only where and what: pydantic's echo of the input could be a 20k-character text.
    problems = exc.errors()
    errors = [{"loc": _loc(e.get("loc", ())), "msg": e.get("msg", "")} for e in problems]
    shown = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return error_response(
        422, f"invalid request: {shown}{more}", "validation_error", errors=errors[:MAX_ERRORS]
    )


def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no endpoint {request.url.path}; see /docs for the list"
    return ErrorJSONResponse(
        error_body(exc.status_code, detail), status_code=exc.status_code, headers=exc.headers
    )


INTERNAL_ERROR = "internal error; the server log has the details"


def install_error_handlers(app: FastAPI) -> None:
    """Map domain, validation and HTTP errors to the JSON body. Unexpected exceptions
    are not handled here: Starlette would log them again when re-raising them (two log
    records per 500); the middleware handles them instead."""
    app.add_exception_handler(PrefLensError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
