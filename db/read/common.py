"""Shared pieces of the read queries: limits, the query error, run lookups and the
value series (one side of a score run, or of a generation comparison) that the
distribution and case queries read."""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from db.lookup import run_record
from db.schema import (
    Generation,
    GenerationScore,
    PairScore,
    Run,
)
from preflens.errors import QueryError

PAIR_SIDES = ("chosen", "rejected", "gap")
GENERATION_SIDES = ("score", "gap")
CASE_SORTS = ("gap_desc", "gap_asc", "abs_gap", "suspicion")
PREVIEW_CHARS = 200
MAX_SEARCH_TERMS = 8
SCAN_MIN_ROWS = 10_000  # runs larger than this (and most of the table) are read by a scan


# A path inside text: absolute (/srv/x), home (~/x) or explicitly relative (./x, ../x),
# not preceded by a word character, ':' or '/' (so "train/loss" and URLs stay whole).
_PATH_IN_TEXT = re.compile(r"(?<![\w:/.~-])(?:~|\.\.?)?/[^\s'\"`,;()\[\]{}<>]+")
# The password of a URL with credentials (scheme://user:password@host).
_URL_PASSWORD = re.compile(r"(\w+://[^:/\s@]+):[^@\s/]+@")
# A SQLite URL names a file: keep only its name (sqlite:////srv/x.db -> sqlite:///x.db).
_SQLITE_FILE = re.compile(r"(sqlite(?:\+\w+)?:///)(/?[^\s'\"`,;()]+)")


def _last_part(match: re.Match[str]) -> str:
    return PurePath(match.group()).name or match.group()


def public(value: Any) -> Any:
    """``value`` with every server path cut to its last component and URL passwords
    masked (a run's config, summary and error name checkpoints and files by path;
    clients get the name). Paths are found anywhere in text: absolute (``/srv/x``),
    home (``~/x``) and explicitly relative (``./x``, ``../x``)."""
    if isinstance(value, str):
        if "/" not in value:
            return value
        value = _SQLITE_FILE.sub(lambda m: m.group(1) + PurePath(m.group(2)).name, value)
        return _PATH_IN_TEXT.sub(_last_part, _URL_PASSWORD.sub(r"\1:***@", value))
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items()}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def scored_run(session: Session, run_id: int) -> Run:
    run = run_record(session, run_id)
    if run.kind not in ("score", "score_generations"):
        raise QueryError(
            f"run {run_id} is a {run.kind} run; scores live in score and score_generations runs"
        )
    return run


def run_policies(session: Session, run: Run) -> list[str]:
    """Policies of a score_generations run, in the order the generation job listed them."""
    present = set(
        session.scalars(
            select(Generation.policy)
            .join(GenerationScore, GenerationScore.generation_id == Generation.id)
            .where(GenerationScore.run_id == run.id)
            .distinct()
        )
    )
    order = list((run.config or {}).get("policies") or [])
    return [p for p in order if p in present] + sorted(present - set(order))


def default_comparison(session: Session, run: Run) -> tuple[str, str]:
    """The run's first comparison (a, b): from its summary, else A = the later-listed policy."""
    comparisons = (run.summary or {}).get("comparisons") or []
    if comparisons:
        return comparisons[0]["a"], comparisons[0]["b"]
    names = run_policies(session, run)
    if len(names) < 2:
        raise QueryError(f"run {run.id} has answers of {len(names)} policy; comparing needs two")
    return names[1], names[0]


def comparison(
    session: Session, run: Run, a: str | None, b: str | None
) -> tuple[str, str, dict[str, Any]]:
    """Resolve (a, b) and build the A-vs-B join: one row per prompt both policies answered."""
    if (a is None) != (b is None):
        raise QueryError("name both policies, a= and b=, or neither (the run's first comparison)")
    if a is None:
        a, b = default_comparison(session, run)
    known = run_policies(session, run)
    for name in (a, b):
        if name not in known:
            raise QueryError(f"run {run.id} has no answers from policy {name!r} (has: {known})")
    if a == b:
        raise QueryError("a and b must name two different policies")
    ga, gb = aliased(Generation, name="ga"), aliased(Generation, name="gb")
    sa, sb = aliased(GenerationScore, name="sa"), aliased(GenerationScore, name="sb")
    parts = {"ga": ga, "gb": gb, "sa": sa, "sb": sb, "gap": (sa.score - sb.score)}

    def base(*columns: Any) -> Select:
        return (
            select(*columns)
            .select_from(sa)
            .join(ga, ga.id == sa.generation_id)
            .join(gb, and_(gb.run_id == ga.run_id, gb.pair_id == ga.pair_id, gb.policy == b))
            .join(sb, and_(sb.generation_id == gb.id, sb.run_id == sa.run_id))
            .where(sa.run_id == run.id, ga.policy == a)
        )

    parts["select"] = base
    return a, b, parts


def pair_score_where(session: Session, run_id: int) -> Any:
    """The WHERE clause for one run's pair_score rows when reading columns no index
    covers (the scores of one side). For a run that holds most of the table it reads
    ``run_id + 0 = ?``: SQLite then scans the table in storage order instead of visiting
    each row through the (run, gap) index, one random lookup per row (many times slower
    at a million rows)."""
    n = session.scalar(select(func.count()).where(PairScore.run_id == run_id)) or 0
    top = session.scalar(select(func.max(PairScore.id))) or 0
    if n > SCAN_MIN_ROWS and 3 * n > top:
        return (PairScore.run_id + 0) == run_id
    return PairScore.run_id == run_id


def split_copied(session: Session, run_id: int) -> bool:
    """Whether every pair_score row of the run carries its pair's split (rows written
    before the column existed hold NULL): then a split filter reads the (run, split,
    category, gap) index alone instead of joining ``pair``. One index probe."""
    missing = session.scalar(
        select(PairScore.id).where(PairScore.run_id == run_id, PairScore.split.is_(None)).limit(1)
    )
    return missing is None


def value_series(
    session: Session,
    run: Run,
    side: str,
    policy: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> tuple[Select, dict[str, Any]]:
    """A SELECT of one column ``x`` (the asked values of the run) and what it describes."""
    if run.kind == "score":
        if side not in PAIR_SIDES:
            raise QueryError(f"side {side!r}: a score run has sides {', '.join(PAIR_SIDES)}")
        if side == "gap":  # the (run, gap) index covers it
            return select(PairScore.gap.label("x")).where(PairScore.run_id == run.id), {
                "side": side
            }
        col = PairScore.score_chosen if side == "chosen" else PairScore.score_rejected
        return select(col.label("x")).where(pair_score_where(session, run.id)), {"side": side}
    if side not in GENERATION_SIDES:
        raise QueryError(
            f"side {side!r}: a score_generations run has sides {', '.join(GENERATION_SIDES)}"
        )
    if side == "score":
        known = run_policies(session, run)
        if policy not in known:
            raise QueryError(f"side=score needs policy= one of {known}")
        stmt = (
            select(GenerationScore.score.label("x"))
            .join(Generation, Generation.id == GenerationScore.generation_id)
            .where(GenerationScore.run_id == run.id, Generation.policy == policy)
        )
        return stmt, {"side": side, "policy": policy}
    a, b, parts = comparison(session, run, a, b)
    return parts["select"](parts["gap"].label("x")), {"side": side, "a": a, "b": b}


def run_model(run: Any) -> str | None:
    """The model a run used, as clients see it: its recorded checkpoint's name, else the
    ``model`` (or ``rm``) of its config with server paths cut."""
    if run.checkpoint is not None:
        return public(run.checkpoint.name)
    config = run.config or {}
    return public(config.get("model") or config.get("rm"))
