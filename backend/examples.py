"""Example responses shown in the OpenAPI docs. The data lives in
``backend/openapi_examples.json`` (package data): real output of a server on the demo
store (see docs/api.md for the commands), with lists cut to three items and long texts
to 70 characters."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

EXAMPLES_FILE = "openapi_examples.json"


@cache
def examples() -> dict[str, Any]:
    """Every example response by name, read once from the package data."""
    text = resources.files("backend").joinpath(EXAMPLES_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def example(name: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entry giving the 200 response its example."""
    return {200: {"content": {"application/json": {"example": examples()[name]}}}}
