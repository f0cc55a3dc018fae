"""Example responses shown in the OpenAPI docs. The data lives in JSON package data,
one file per group of routes (``EXAMPLES_FILES``): real output of a server on the demo
store (see docs/api.md for the commands), with lists cut to three items and long texts
to 70 characters."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

EXAMPLES_FILES = (
    "openapi_examples.json",
    "diagnostics_examples.json",
    "probes_examples.json",
    "more_examples.json",
)


@cache
def examples() -> dict[str, Any]:
    """Every example response by name, read once from the package data files."""
    out: dict[str, Any] = {}
    for name in EXAMPLES_FILES:
        text = resources.files("backend").joinpath(name).read_text(encoding="utf-8")
        out.update(json.loads(text))
    return out


def example(name: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entry giving the 200 response its example."""
    return {200: {"content": {"application/json": {"example": examples()[name]}}}}
