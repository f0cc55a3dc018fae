"""Case search (score-gap range, category, split, text, cut at a limit, flips against
another run, map cluster, disagreement with a DPO run; sorted; keyset pages; the number
of matches). One case in full is ``db.read.case_detail``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import itertools
import json
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, func, literal_column, or_, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, aliased

from db.lookup import MAX_ID, run_record
from db.read.case_suspicion import suspicion_order, suspicion_page
from db.read.common import (
    CASE_SORTS,
    MAX_SEARCH_TERMS,
    PREVIEW_CHARS,
    comparison,
    scored_run,
    split_copied,
)
from db.read.compare import require_same_pairs
from db.schema import (
    DpoScore,
    Generation,
    MapPoint,
    Pair,
    PairScore,
)
from preflens.errors import QueryError


def _search_terms(q: str | None) -> list[str]:
    terms = (q or "").split()
    if len(terms) > MAX_SEARCH_TERMS:
        raise QueryError(f"q: at most {MAX_SEARCH_TERMS} search terms")
    return terms


def _has_fts(session: Session) -> bool:
    if session.get_bind().dialect.name != "sqlite":
        return False
    found = session.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pair_fts'")
    ).first()
    return found is not None


def _like_all(terms: list[str], columns: Sequence[Any]) -> Any:
    """Every term appears (case-insensitively) in at least one of ``columns``."""
    clauses = []
    for term in terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append(or_(*(col.ilike(pattern, escape="\\") for col in columns)))
    return and_(*clauses)


def _has_tsvector(session: Session) -> bool:
    """PostgreSQL with the ``pair.search_vector`` column (migration 0003) and its GIN index."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    found = session.execute(
        text(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'pair' AND column_name = 'search_vector'"
        )
    ).first()
    return found is not None


def _matching_pairs(session: Session, terms: list[str]) -> Select:
    """Ids of pairs whose prompt or responses hold every term: an FTS5 whole-word match
    on SQLite (each term quoted as a phrase, so user text is never query syntax), the
    same on PostgreSQL through the ``search_vector`` tsvector and its GIN index (each
    term a ``phraseto_tsquery('simple', term)``, bound as a parameter), else LIKE."""
    if _has_tsvector(session):
        vector = literal_column("pair.search_vector")
        return select(Pair.id).where(
            *(vector.op("@@")(func.phraseto_tsquery("simple", term)) for term in terms)
        )
    if not _has_fts(session):
        return select(Pair.id).where(
            _like_all(terms, (Pair.prompt_text, Pair.chosen, Pair.rejected))
        )
    match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
    fts = select(literal_column("rowid")).select_from(text("pair_fts"))
    return fts.where(text("pair_fts MATCH :fts_query").bindparams(fts_query=match))


def _encode_cursor(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        key, pair_id = float(payload["k"]), int(payload["id"])
        same = payload["f"] == fingerprint
        # A forged cursor: an id past SQLite's integer range, or NaN / inf as the key.
        if not (0 <= pair_id <= MAX_ID and math.isfinite(key)):
            raise ValueError("cursor out of range")
    except (binascii.Error, ValueError, KeyError, TypeError, OverflowError) as exc:
        raise QueryError("cursor is not one this API returned; start without cursor") from exc
    if not same:
        raise QueryError("cursor belongs to another query (run, filters or sort changed)")
    return key, pair_id


def _keyset_page(
    session: Session,
    stmt: Select,
    gap: Any,
    pair_id: Any,
    sort: str,
    after: tuple[float, int] | None,
    limit: int,
    walk_index: bool,
) -> list[Any]:
    """Up to ``limit + 1`` rows of ``stmt`` in ``sort`` order after the cursor ``after``.

    ``gap_desc`` / ``gap_asc`` walk the (run, gap) index; ``abs_gap`` walks gaps >= 0
    upward and gaps < 0 downward and merges the two by (|gap|, pair id), so no sort over
    the whole run is needed. ``walk_index=False`` (text search) orders by ``gap + 0``,
    which lets SQLite start from the few matching pairs instead of walking every gap.
    """
    order = gap if walk_index else gap + 0
    k, last = after if after else (None, None)

    def fetch(where: list, by: list) -> list:
        return session.execute(stmt.where(*where).order_by(*by).limit(limit + 1)).all()

    if sort == "gap_desc":
        where = [or_(gap < k, and_(gap == k, pair_id < last))] if after else []
        return fetch(where, [order.desc(), pair_id.desc()])
    if sort == "gap_asc":
        where = [or_(gap > k, and_(gap == k, pair_id > last))] if after else []
        return fetch(where, [order.asc(), pair_id.asc()])
    up = [gap >= 0] + ([or_(gap > k, and_(gap == k, pair_id > last))] if after else [])
    down = [gap < 0] + ([or_(gap < -k, and_(gap == -k, pair_id > last))] if after else [])
    rows = heapq.merge(
        fetch(up, [order.asc(), pair_id.asc()]),
        fetch(down, [order.desc(), pair_id.asc()]),
        key=lambda r: (abs(r.gap), r.pair_id),
    )
    return list(itertools.islice(rows, limit + 1))


FLIPS = ("wrong_to_right", "right_to_wrong")
MAX_PAIR_IDS = 500  # pairs one link may name (``pair_ids``)


def _flipped(gap_a: Any, gap_b: Any, flip: str | None) -> Any:
    """Right in one run and wrong in the other (right: gap > 0; a gap of 0 is wrong)."""
    if flip == "wrong_to_right":
        return and_(gap_a <= 0, gap_b > 0)
    return and_(gap_a > 0, gap_b <= 0)


def _disagreeing(gap: Any, dpo_gap: Any) -> Any:
    """The reward model and the DPO implicit reward prefer different sides (each prefers
    chosen where its gap is > 0; a gap of 0 prefers neither), as ``db.read.probes``
    counts them."""
    return or_(and_(gap > 0, dpo_gap <= 0), and_(gap <= 0, dpo_gap > 0))


def _pair_previews(session: Session, pair_ids: list[int]) -> dict[int, Any]:
    rows = session.execute(
        select(
            Pair.id,
            Pair.split,
            Pair.category,
            func.substr(Pair.prompt_text, 1, PREVIEW_CHARS),
            func.substr(Pair.chosen, 1, PREVIEW_CHARS),
            func.substr(Pair.rejected, 1, PREVIEW_CHARS),
        ).where(Pair.id.in_(pair_ids))
    )
    return {row[0]: row for row in rows}


def search_cases(
    session: Session,
    run_id: int,
    *,
    min_gap: float | None = None,
    max_gap: float | None = None,
    category: str | None = None,
    split: str | None = None,
    q: str | None = None,
    sort: str = "gap_desc",
    limit: int = 50,
    cursor: str | None = None,
    a: str | None = None,
    b: str | None = None,
    cut: bool = False,
    against: int | None = None,
    flip: str | None = None,
    cluster: int | None = None,
    disagree: int | None = None,
    pair_ids: Sequence[int] | None = None,
) -> dict[str, Any]:
    """One page of a run's cases whose gap lies in [min_gap, max_gap].

    A score run's cases are its pairs (gap = chosen - rejected); a score_generations
    run's cases are the prompts both policies ``a`` and ``b`` answered (gap = A - B).
    ``sort``: ``gap_desc``, ``gap_asc`` or ``abs_gap`` (closest to a tie first); ties of
    the key are ordered by pair id (descending for ``gap_desc``, else ascending);
    ``suspicion`` (score runs): the order of ``db.read.suspects.rank_pairs`` over the
    run's dataset, each item with its ``suspicion`` and ``signals``. ``q``:
    every word must occur in the prompt or either response (whole words through the FTS5
    index on SQLite, substrings elsewhere). ``cut``: only cases with a side cut at a
    length limit (a score run: a response truncated to the scoring max length; a
    comparison: an answer that hit max_new_tokens). ``against`` + ``flip`` (score runs):
    only the pairs whose verdict flips between run ``against`` (a) and this run (b):
    ``wrong_to_right`` or ``right_to_wrong``, a gap of 0 counting wrong as in every
    accuracy. ``cluster`` (score runs): only the pairs in that cluster of the run's stored
    map (``preflens map``). ``disagree`` (score runs): only the pairs where this run's gap
    and score_dpo run ``disagree``'s implicit-reward gap prefer different sides (the
    Probes page's disagreement count). ``pair_ids``: only these pairs (a list another
    page links, e.g. the most suspicious; at most ``MAX_PAIR_IDS``). ``total`` counts
    every match (all pages). Pagination is
    keyset on (key, pair id):
    ``next_cursor`` resumes right after the last item, so rows added meanwhile never
    shift a page (no repeats, no gaps); it is None on the last page. Items carry
    200-character previews; ``get_case`` returns a case in full.
    """
    if sort not in CASE_SORTS:
        raise QueryError(f"sort {sort!r}: expected one of {', '.join(CASE_SORTS)}")
    if limit < 1:
        raise QueryError("limit must be at least 1")
    if min_gap is not None and max_gap is not None and min_gap > max_gap:
        raise QueryError(f"min_gap {min_gap} is above max_gap {max_gap}")
    if (against is None) != (flip is None):
        raise QueryError("against and flip go together (flip: wrong_to_right or right_to_wrong)")
    if flip is not None and flip not in FLIPS:
        raise QueryError(f"flip {flip!r}: expected one of {', '.join(FLIPS)}")
    run = scored_run(session, run_id)
    if against is not None and run.kind != "score":
        raise QueryError("against / flip: only a score run's pairs flip between runs")
    if cluster is not None and run.kind != "score":
        raise QueryError("cluster: only a score run's pairs are mapped")
    if against is not None and scored_run(session, against).kind != "score":
        raise QueryError(f"against: run {against} is not a score run")
    if sort == "suspicion" and run.kind != "score":
        raise QueryError("sort suspicion: only a score run's pairs have a suspicion")
    if disagree is not None and run.kind != "score":
        raise QueryError("disagree: only a score run's pairs have a DPO counterpart")
    if disagree is not None:
        dpo_run = run_record(session, disagree)
        if dpo_run.kind != "score_dpo":
            raise QueryError(f"disagree: run {disagree} is not a score_dpo run")
        require_same_pairs(dpo_run, run)  # the one comparison rule: same pairs only
    if pair_ids is not None and len(pair_ids) > MAX_PAIR_IDS:
        raise QueryError(f"pair_ids: at most {MAX_PAIR_IDS} pairs")
    terms = _search_terms(q)
    if run.kind == "score":
        s = PairScore
        gap, pair_id = s.gap, s.pair_id
        stmt = select(
            s.pair_id.label("pair_id"),
            s.score_chosen,
            s.score_rejected,
            s.gap.label("gap"),
            s.tokens_chosen,
            s.tokens_rejected,
            s.truncated_chosen,
            s.truncated_rejected,
        ).where(s.run_id == run_id)
        if category is not None:
            stmt = stmt.where(s.category == category)
        if split is not None and split_copied(session, run_id):
            stmt = stmt.where(s.split == split)  # index-only: (run, split, category, gap)
        elif split is not None:  # rows scored before pair_score.split was filled
            stmt = stmt.join(Pair, Pair.id == s.pair_id).where(Pair.split == split)
        if terms:
            stmt = stmt.where(s.pair_id.in_(_matching_pairs(session, terms)))
        if cut:
            stmt = stmt.where(or_(s.truncated_chosen.is_(True), s.truncated_rejected.is_(True)))
        if pair_ids is not None:
            stmt = stmt.where(s.pair_id.in_(list(pair_ids)))
        if cluster is not None:
            members = select(MapPoint.pair_id).where(
                MapPoint.run_id == run_id, MapPoint.cluster == cluster
            )
            stmt = stmt.where(s.pair_id.in_(members))
        if against is not None:
            other = aliased(PairScore)
            stmt = stmt.join(
                other, and_(other.pair_id == s.pair_id, other.run_id == against)
            ).where(_flipped(other.gap, s.gap, flip))
        if disagree is not None:
            dpo = aliased(DpoScore)
            on = and_(dpo.pair_id == s.pair_id, dpo.run_id == disagree)
            stmt = stmt.join(dpo, on).where(_disagreeing(s.gap, dpo.gap))
    else:
        a, b, p = comparison(session, run, a, b)
        ga, gb, sa, sb, gap = p["ga"], p["gb"], p["sa"], p["sb"], p["gap"]
        pair_id = ga.pair_id
        stmt = p["select"](
            ga.pair_id.label("pair_id"),
            sa.score.label("score_a"),
            sb.score.label("score_b"),
            gap.label("gap"),
            ga.n_tokens.label("tokens_a"),
            gb.n_tokens.label("tokens_b"),
            ga.finish_reason.label("finish_a"),
            gb.finish_reason.label("finish_b"),
            ga.id.label("ga_id"),
            gb.id.label("gb_id"),
        ).join(Pair, Pair.id == ga.pair_id)
        for column, value in ((Pair.category, category), (Pair.split, split)):
            if value is not None:
                stmt = stmt.where(column == value)
        if terms:  # answers are few next to pairs: a LIKE over them is cheap
            stmt = stmt.where(_like_all(terms, (Pair.prompt_text, ga.text, gb.text)))
        if cut:
            stmt = stmt.where(or_(ga.finish_reason == "length", gb.finish_reason == "length"))
        if pair_ids is not None:
            stmt = stmt.where(ga.pair_id.in_(list(pair_ids)))
    if min_gap is not None:
        stmt = stmt.where(gap >= min_gap)
    if max_gap is not None:
        stmt = stmt.where(gap <= max_gap)

    query = [run_id, a, b, min_gap, max_gap, category, split, terms, sort]
    try:
        ranking = suspicion_order(session, run, stmt) if sort == "suspicion" else None
    except OperationalError as exc:  # e.g. a search string FTS5 cannot take
        raise QueryError(f"q {q!r} cannot be searched: {exc.orig}") from exc
    # A new signal run changes the order: a cursor from the old one must not resume.
    query += [["signals", ranking["runs"]]] if ranking is not None else []
    query += [cut, against, flip] if cut or against is not None else []
    query += [cluster] if cluster is not None else []
    query += [["disagree", disagree]] if disagree is not None else []
    query += [["pairs", sorted(pair_ids)]] if pair_ids is not None else []
    fingerprint = hashlib.sha256(json.dumps(query).encode()).hexdigest()[:16]
    after = _decode_cursor(cursor, fingerprint) if cursor else None
    susp: list[tuple[float | None, int]] = []
    if ranking is not None:
        page, susp, more = suspicion_page(session, stmt, pair_id, ranking, after, limit)
    else:
        try:
            rows = _keyset_page(
                session, stmt, gap, pair_id, sort, after, limit, walk_index=not terms
            )
        except OperationalError as exc:  # e.g. a search string FTS5 cannot take
            raise QueryError(f"q {q!r} cannot be searched: {exc.orig}") from exc
        page, more = rows[:limit], len(rows) > limit
    previews = _pair_previews(session, [r.pair_id for r in page])
    items = []
    if run.kind == "score":
        for r in page:
            _, split_, category_, prompt, chosen, rejected = previews[r.pair_id]
            item = {"pair_id": r.pair_id, "category": category_, "split": split_}
            item |= {k: v for k, v in r._mapping.items() if k != "pair_id"}
            items.append(item | {"prompt": prompt, "chosen": chosen, "rejected": rejected})
        for item, (suspicion, signals) in zip(items, susp, strict=False):
            item |= {"suspicion": suspicion, "signals": signals}
    else:
        texts = dict(
            session.execute(
                select(Generation.id, func.substr(Generation.text, 1, PREVIEW_CHARS)).where(
                    Generation.id.in_([r.ga_id for r in page] + [r.gb_id for r in page])
                )
            ).all()
        )
        for r in page:
            _, split_, category_, prompt, _, _ = previews[r.pair_id]
            item = {"pair_id": r.pair_id, "category": category_, "split": split_}
            item |= {k: v for k, v in r._mapping.items() if k not in ("pair_id", "ga_id", "gb_id")}
            items.append(
                item | {"prompt": prompt, "text_a": texts[r.ga_id], "text_b": texts[r.gb_id]}
            )
    next_cursor = None
    if more:
        last = page[-1]
        k = abs(last.gap) if sort == "abs_gap" else last.gap
        next_cursor = _encode_cursor({"k": k, "id": last.pair_id, "f": fingerprint})
    return {
        "run_id": run_id,
        "kind": run.kind,
        "a": a,
        "b": b,
        "sort": sort,
        "items": items,
        "next_cursor": next_cursor,
        "total": session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one(),
    }
