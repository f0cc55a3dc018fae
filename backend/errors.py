"""Every error the API returns is JSON: ``{"status", "error", "detail"}`` (validation
errors add ``errors``: one ``{"loc", "msg"}`` per problem). Domain exceptions map to
HTTP in ``install_error_handlers``; anything unexpected is logged with its traceback
and answered with a plain 500, never the traceback.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from preflens.errors import (
    DataFormatError,
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


def error_response(status: int, message: str, error: str | None = None, **extra) -> JSONResponse:
    return JSONResponse(error_body(status, message, error, **extra), status_code=status)


STATUS_OF = (
    (NotFoundError, 404),
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


def _loc(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    # Only where and what: pydantic's echo of the input could be a 20k-character text.
    errors = [{"loc": _loc(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
    shown = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return error_response(422, f"invalid request: {shown}{more}", "validation_error", errors=errors)


def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no endpoint {request.url.path}; see /docs for the list"
    return JSONResponse(
        error_body(exc.status_code, detail), status_code=exc.status_code, headers=exc.headers
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PrefLensError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
