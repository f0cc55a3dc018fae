"""ASGI middleware: unexpected-error catcher, query-string cap, API-key check and
request body cap. Each answers with the API's JSON error shape before the request
reaches a route (and before a large body is read)."""

from __future__ import annotations

import hmac
import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import INTERNAL_ERROR, error_body

OPEN_PATHS = frozenset({"/healthz"})
log = logging.getLogger("backend.errors")


async def send_json(send: Send, status: int, body: dict, headers: dict | None = None) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def _path(scope: Scope) -> str:
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class ApiKeyMiddleware:
    """When a key is configured, every path but /healthz needs ``Authorization: Bearer
    <key>``; the key is compared in constant time (``hmac.compare_digest``)."""

    def __init__(self, app: ASGIApp, api_key: str):
        self.app = app
        self._key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _path(scope) in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, token = header.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._key):
            await self.app(scope, receive, send)
            return
        message = (
            "missing API key: send `Authorization: Bearer <key>`"
            if not header
            else "wrong API key or scheme: send `Authorization: Bearer <key>`"
        )
        await send_json(send, 401, error_body(401, message), {"WWW-Authenticate": "Bearer"})


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, by Content-Length when given and
    by counting otherwise; the body read here is replayed to the route."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> dict:
        return error_body(
            413,
            f"request body is over {self.max_bytes} bytes (the limit max_body_bytes, "
            "PREFLENS_MAX_BODY_BYTES); send fewer or shorter items",
            "limit_exceeded",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await send_json(send, 400, error_body(400, "Content-Length is not a number"))
                return
            if int(length) > self.max_bytes:
                await send_json(send, 413, self._too_large())
                return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await send_json(send, 413, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class UnexpectedErrorMiddleware:
    """The outermost catch: an exception no handler mapped is logged once (with its
    traceback) and answered with a plain JSON 500. It is not re-raised, so neither
    Starlette nor the server logs it a second time."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), _path(scope))
            if not started:  # otherwise the client already has a status; the body is cut
                await send_json(send, 500, error_body(500, INTERNAL_ERROR))


class QueryStringLimitMiddleware:
    """Refuse a raw query string over ``max_chars`` with 414 and the JSON body (the
    server, not the client, bounds how much a GET asks for)."""

    def __init__(self, app: ASGIApp, max_chars: int):
        self.app = app
        self.max_chars = max_chars

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope.get("query_string", b"")) > self.max_chars:
            message = (
                f"query string is over {self.max_chars} characters (the limit max_query_chars, "
                "PREFLENS_MAX_QUERY_CHARS)"
            )
            await send_json(send, 414, error_body(414, message, "limit_exceeded"))
            return
        await self.app(scope, receive, send)
