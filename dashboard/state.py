"""The Cases page's state as URL query parameters, so a view or one case can be shared
as a link. Pure (no Streamlit): parsing is lenient (a bad value falls back to its
default) and only values that differ from the defaults are written back.

``?run=3&sort=abs_gap&min_gap=-0.5&max_gap=0.5&category=safety&split=test&q=refund``
``&limit=20&cursor=...&page=2&case=17`` (``a`` / ``b``: the policies of a generation
comparison). ``cursor`` is the ``next_cursor`` the page before returned; ``page`` only
numbers the page for display. Links from a count on another page select exactly the
pairs counted: ``max_gap=0`` the wrong ones (a gap of 0 counts wrong), ``cut=1`` those
cut at a length limit, ``against=2&flip=wrong_to_right`` those that flip against run 2,
``disagree=5`` those where score_dpo run 5's implicit reward prefers the other side,
``pairs=12,7,30`` exactly those pairs (a list another page names, e.g. the most suspicious).
``view=table`` shows the page as one sortable table instead of cards. ``sort=suspicion``
(score runs) lists the pairs most likely mislabelled first, as the Suspects page ranks them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlencode

from db.lookup import MAX_ID
from db.read.cases import MAX_PAIR_IDS

SORTS = {
    "gap_desc": "largest gap first",
    "gap_asc": "smallest gap first",
    "abs_gap": "closest to zero first",
    "suspicion": "most suspicious first",  # score runs: likely mislabelled (db.read.suspects)
}
SCORE_RUN_SORTS = ("suspicion",)  # sorts only a score run's pairs have
PAGE_SIZES = (10, 20, 50)
FLIPS = {"wrong_to_right": "wrong -> right", "right_to_wrong": "right -> wrong"}
VIEWS = {"cards": "cards", "table": "table"}


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _id(value: Any) -> int | None:
    """A row id: an integer the store can hold (1 .. 2^63-1), else None (a link with a
    huge or negative id falls back to the default instead of failing in the driver)."""
    number = _int(value)
    return number if number is not None and 1 <= number <= MAX_ID else None


def parse_float(value: Any) -> float | None:
    """A finite float from text, else None (blank or invalid: no bound)."""
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _pair_list(value: Any) -> str | None:
    """``"12,7,30"``: the valid pair ids of a comma-separated list, each once, at most
    ``MAX_PAIR_IDS`` (None when none is valid)."""
    ids = [i for i in (_id(p) for p in str(value or "").split(",")) if i is not None]
    ids = list(dict.fromkeys(ids))[:MAX_PAIR_IDS]
    return ",".join(map(str, ids)) or None


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


@dataclass(frozen=True)
class CaseQuery:
    run: int | None = None
    a: str | None = None
    b: str | None = None
    min_gap: float | None = None
    max_gap: float | None = None
    category: str | None = None
    split: str | None = None
    q: str | None = None
    sort: str = "gap_desc"
    limit: int = PAGE_SIZES[0]
    cursor: str | None = None
    page: int = 1
    case: int | None = None
    cut: bool = False
    against: int | None = None
    flip: str | None = None
    view: str = "cards"
    cluster: int | None = None  # a cluster of the run's map (-1: unclustered)
    disagree: int | None = None  # a score_dpo run: pairs where it and this run disagree
    pairs: str | None = None  # "12,7,30": exactly these pair ids

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CaseQuery:
        """Read query parameters (a list value counts by its last item)."""

        def get(key: str) -> Any:
            value = params.get(key)
            return value[-1] if isinstance(value, list) and value else value

        sort = get("sort")
        limit = _int(get("limit"))
        page = _int(get("page"))
        against, flip = _id(get("against")), get("flip")
        if against is None or flip not in FLIPS:  # the two only make sense together
            against, flip = None, None
        view = get("view")
        return cls(
            run=_id(get("run")),
            a=_text(get("a")),
            b=_text(get("b")),
            min_gap=parse_float(get("min_gap")),
            max_gap=parse_float(get("max_gap")),
            category=_text(get("category")),
            split=_text(get("split")),
            q=_text(get("q")),
            sort=sort if sort in SORTS else "gap_desc",
            limit=limit if limit in PAGE_SIZES else PAGE_SIZES[0],
            cursor=_text(get("cursor")),
            page=page if page is not None and page >= 1 else 1,
            case=_id(get("case")),
            cut=str(get("cut")).lower() in ("1", "true", "yes"),
            against=against,
            flip=flip,
            view=view if view in VIEWS else "cards",
            cluster=_int(get("cluster")),
            disagree=_id(get("disagree")),
            pairs=_pair_list(get("pairs")),
        )

    def to_params(self) -> dict[str, str]:
        """The query parameters of this state: only values other than the defaults."""
        defaults = asdict(CaseQuery())
        out = {}
        for key, value in asdict(self).items():
            if value is None or value == defaults[key]:
                continue
            if isinstance(value, bool):
                out[key] = "1"
            else:
                out[key] = repr(value) if isinstance(value, float) else str(value)
        return out

    def filters(self) -> tuple:
        """What selects the cases: when any of it changes, paging starts again."""
        return (
            self.run,
            self.a,
            self.b,
            self.min_gap,
            self.max_gap,
            self.category,
            self.split,
            self.q,
            self.sort,
            self.limit,
            self.cut,
            self.against,
            self.flip,
            self.cluster,
            self.disagree,
            self.pairs,
        )

    def first_page(self) -> CaseQuery:
        return replace(self, cursor=None, page=1)

    def search_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``db.read.search_cases`` (and ``GET /v1/cases``)."""
        return {
            "min_gap": self.min_gap,
            "max_gap": self.max_gap,
            "category": self.category,
            "split": self.split,
            "q": self.q,
            "sort": self.sort,
            "limit": self.limit,
            "cursor": self.cursor,
            "a": self.a,
            "b": self.b,
            "cut": self.cut,
            "against": self.against,
            "flip": self.flip,
            "cluster": self.cluster,
            "disagree": self.disagree,
            "pair_ids": [int(p) for p in self.pairs.split(",")] if self.pairs else None,
        }


def cases_link(**fields: Any) -> str:
    """A relative link to the Cases page showing exactly this selection, e.g.
    ``cases_link(run=3, max_gap=0.0)``: the pairs run 3 gets wrong."""
    return "cases?" + urlencode(CaseQuery(**fields).to_params())
