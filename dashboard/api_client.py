"""HTTP client of the PrefLens backend (``preflens serve``) for live scoring and flags.

The dashboard reads the store itself; only live scoring and setting flags on pairs (the
one write, through the backend's write path) need the backend, whose models
are loaded once in that process. The URL comes from ``PREFLENS_DASHBOARD_API_URL``
(``preflens dashboard --api-url``), the key from ``PREFLENS_API_KEY`` when set. Every
failure becomes a ``BackendError`` whose message says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from preflens.config import get_settings


class BackendError(Exception):
    """The backend answered with an error (its ``detail`` is the message)."""


class BackendUnreachable(BackendError):
    """Nothing answers at the backend URL (not started, wrong URL, or timed out)."""


@dataclass(frozen=True)
class ApiClient:
    base_url: str
    api_key: str | None = None
    timeout: float = 60.0
    connect_timeout: float = 3.0

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        timeout = httpx.Timeout(self.timeout, connect=self.connect_timeout)
        try:
            with httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout) as http:
                response = http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise BackendUnreachable(
                f"the backend at {self.base_url} is not reachable ({type(exc).__name__}); "
                "start it with `preflens serve` or point PREFLENS_DASHBOARD_API_URL "
                "(`preflens dashboard --api-url`) at it"
            ) from exc
        except httpx.HTTPError as exc:
            raise BackendUnreachable(
                f"the backend at {self.base_url} did not answer: {type(exc).__name__}: {exc}"
            ) from exc
        if response.status_code >= 400:
            raise BackendError(_error_message(response))
        return response.json()

    def health(self) -> dict[str, Any]:
        """``GET /healthz`` (no key needed): raises ``BackendUnreachable`` when down."""
        return self._request("GET", "/healthz")

    def models(self) -> dict[str, Any]:
        """The loaded reward model and policies (``GET /v1/models``)."""
        return self._request("GET", "/v1/models")

    def score(self, prompt: str, response: str) -> dict[str, Any]:
        """One (prompt, response) scored by the backend's reward model."""
        return self._request("POST", "/v1/score", json={"prompt": prompt, "response": response})

    def token_values(
        self, prompt: str | list[dict[str, str]], responses: list[str]
    ) -> list[list[dict[str, Any]]]:
        """Per-token reward of each response to ``prompt`` (``POST /v1/score`` with
        ``per_token``): per response, its tokens ``{text, value, response}``; the last
        value is the response's score."""
        items = [{"prompt": prompt, "response": r} for r in responses]
        body = self._request("POST", "/v1/score", json={"items": items, "per_token": True})
        return [r.get("tokens") or [] for r in body["results"]]

    def probe(
        self, prompt: str, chosen: str, rejected: str, edits: list[str] | None = None
    ) -> dict[str, Any]:
        """Counterfactual edits of one pair scored live (``POST /v1/probe``)."""
        body: dict[str, Any] = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
        if edits:
            body["edits"] = edits
        return self._request("POST", "/v1/probe", json=body)

    def compare(
        self, prompt: str, response_a: str, response_b: str, run: int | None = None
    ) -> dict[str, Any]:
        """Both scores, the gap, P(A preferred) and, with ``run``, their percentiles."""
        body: dict[str, Any] = {"prompt": prompt, "response_a": response_a}
        body["response_b"] = response_b
        if run is not None:
            body["run"] = run
        return self._request("POST", "/v1/compare", json=body)

    def set_flag(self, pair_id: int, label: str, note: str = "") -> dict[str, Any]:
        """Flag a pair (``PUT /v1/pairs/{id}/flag``): the dashboard never writes the store
        itself, so flags go through the backend, behind its API key when one is set."""
        body = {"label": label, "note": note}
        return self._request("PUT", f"/v1/pairs/{pair_id}/flag", json=body)

    def clear_flag(self, pair_id: int) -> dict[str, Any] | None:
        """Remove a pair's flag (``DELETE /v1/pairs/{id}/flag``)."""
        return self._request("DELETE", f"/v1/pairs/{pair_id}/flag")


def _error_message(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    text = detail if isinstance(detail, str) else response.text[:300]
    return f"the backend answered {response.status_code}: {text}"


def client_from_settings() -> ApiClient:
    """A client for ``PREFLENS_DASHBOARD_API_URL`` with ``PREFLENS_API_KEY`` when set."""
    settings = get_settings()
    return ApiClient(settings.dashboard_api_url.rstrip("/"), api_key=settings.api_key or None)
