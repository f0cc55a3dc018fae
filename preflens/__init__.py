"""PrefLens: inspect preference data, reward models and DPO policies.

The public Python interface is ``preflens.api``; its names are also reachable here
(``preflens.Store``, ``preflens.score``, ...), loaded on first use so that ``import
preflens`` and ``preflens --help`` stay fast and import neither torch nor pandas.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``preflens.<name>`` for every name of ``preflens.api.__all__`` (lazily)."""
    if name == "api" or name.startswith("_"):
        raise AttributeError(name)
    from preflens import api

    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module 'preflens' has no attribute {name!r}")


def __dir__() -> list[str]:
    from preflens.api import __all__ as public

    return sorted([*globals(), *public])
