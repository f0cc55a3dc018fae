"""``Store`` and ``Run``: the store's datasets and runs, read through the same
``db.read`` functions the HTTP API and ``preflens export`` call (public through
``preflens.api``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from preflens.config import get_settings
from preflens.errors import QueryError

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
CASES_PAGE = 500  # cases read per query while ``Run.cases`` gathers its rows


class Store:
    """A PrefLens store (SQLite file or PostgreSQL database), migrated to the newest
    schema on opening, exactly as every command does.

    Args:
        url: a SQLAlchemy URL. Default: the store the command line uses
            (``PREFLENS_DATABASE_URL``, else ``<PREFLENS_DATA_DIR>/preflens.db``).
    """

    def __init__(self, url: str | None = None) -> None:
        from db.migrate import open_store

        self.url: str = url or get_settings().resolved_database_url
        self._make_session: sessionmaker[Session] = open_store(self.url)

    def __repr__(self) -> str:
        from db.session import shown_url

        return f"Store({shown_url(self.url)!r})"

    def _read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(session, *args, **kwargs)`` in one read session."""
        with self._make_session() as session:
            return fn(session, *args, **kwargs)

    def datasets(self) -> pd.DataFrame:
        """One row per dataset (as ``GET /v1/datasets``): ``id``, ``name``, ``format``,
        ``source``, ``created_at``, ``pairs``, ``splits`` and ``categories`` (pairs per
        split / category), ``rejected`` and ``reasons`` (rejected rows per reason)."""
        import pandas as pd

        from db.read import list_datasets

        rows = self._read(list_datasets)
        columns = ["id", "name", "format", "source", "created_at", "pairs", "splits"]
        columns += ["categories", "rejected", "reasons"]
        return pd.DataFrame(rows, columns=columns)

    def runs(
        self, kind: str | None = None, dataset: str | int | None = None, status: str | None = None
    ) -> list[Run]:
        """Runs, oldest first, optionally of one ``kind`` (``score``, ``train_rm``,
        ``train_dpo``, ``generate``, ``score_generations``, ...), ``dataset`` (name or id)
        or ``status`` (``done``, ``running``, ``failed``, ...)."""
        from db.read import list_runs

        return [Run(self, info) for info in self._read(list_runs, kind, status, dataset)]

    def run(self, run_id: int) -> Run:
        """The run with this id (``NotFoundError`` when there is none)."""
        from db.read import get_run

        return Run(self, self._read(get_run, run_id))


class Run:
    """One run of the store. ``info`` holds its bookkeeping as ``GET /v1/runs/{id}``
    returns it (kind, status, dataset, split, model, config, summary, times); the
    methods read its rows and numbers."""

    def __init__(self, store: Store, info: dict[str, Any]) -> None:
        self.store = store
        self.info: dict[str, Any] = info

    def __repr__(self) -> str:
        return f"Run(id={self.id}, kind={self.kind!r}, status={self.info['status']!r})"

    @property
    def id(self) -> int:
        """The run's id (what ``preflens runs`` lists)."""
        return int(self.info["id"])

    @property
    def kind(self) -> str:
        """``score``, ``train_rm``, ``train_dpo``, ``generate``, ``score_generations``, ..."""
        return str(self.info["kind"])

    @property
    def status(self) -> str:
        """The status when this object was read (``refresh()`` reads it again)."""
        return str(self.info["status"])

    @property
    def output(self) -> str | None:
        """The checkpoint folder a ``train_rm`` or ``train_dpo`` run wrote, as a full
        local path for ``load_reward_model`` (``info``, like the HTTP API, shows only its
        name); None for other runs and unfinished ones."""
        from db.lookup import run_record

        def read(session: Session) -> str | None:
            return (run_record(session, self.id).summary or {}).get("output")

        return self.store._read(read)

    def refresh(self) -> Run:
        """The same run as the store has it now."""
        return self.store.run(self.id)

    def summary(self, tie_margin: float | None = None) -> dict[str, Any]:
        """The run's summary, as ``GET /v1/runs/{id}/summary`` (a score run: pairs,
        accuracy with its counts, score statistics; a score_generations run: per policy and
        per comparison, win rates counting differences within ``tie_margin`` as ties)."""
        from db.read import run_summary

        return self.store._read(run_summary, self.id, tie_margin)

    def _rows(self, a: str | None = None, b: str | None = None) -> pd.DataFrame:
        import pandas as pd

        from db.read.export import export_columns, export_rows

        def read(session: Session) -> pd.DataFrame:
            columns = export_columns(session, self.id)
            return pd.DataFrame(list(export_rows(session, self.id, a, b)), columns=columns)

        return self.store._read(read)

    def pairs(self) -> pd.DataFrame:
        """A score run's pairs, one row each by pair id, with the columns of ``preflens
        export``: ``pair_id``, ``split``, ``category``, ``prompt``, ``chosen``,
        ``rejected``, ``score_chosen``, ``score_rejected``, ``gap`` (chosen - rejected),
        ``chars_chosen``, ``chars_rejected`` (characters of each response),
        ``response_tokens_chosen``, ``response_tokens_rejected`` (tokens of the response
        text alone, no template; empty for runs scored before they were stored)."""
        _expect_kind(self, "score")
        return self._rows()

    def answers(self, a: str | None = None, b: str | None = None) -> pd.DataFrame:
        """A score_generations run's answers as ``preflens export`` writes them: one row
        per prompt both policies ``a`` and ``b`` answered (default: the run's first
        comparison), the two answers side by side: ``pair_id``, ``split``, ``category``,
        ``prompt``, ``policy_a``, ``policy_b``, ``text_a``, ``text_b``, ``score_a``,
        ``score_b``, ``diff`` (score_a - score_b), ``chars_a``, ``chars_b``, ``tokens_a``,
        ``tokens_b`` (generated tokens)."""
        _expect_kind(self, "score_generations")
        return self._rows(a, b)

    def diagnostics(
        self, against: int | Run | None = None, *, b: int = 2000, seed: int = 0
    ) -> dict[str, Any]:
        """The dict of ``GET /v1/runs/{id}/diagnostics``: accuracy (Wilson 95%), AUC and
        mean gap (bootstrap 95%, ``b`` resamples from ``seed``), per category and split,
        length control and calibration (or, for a score_generations run, win rates, sign
        test and length-controlled win rate). A gap of exactly 0 counts as wrong.

        With ``against`` (a score run on the same pairs), the result also holds
        ``paired``: this run against that one, as ``GET /v1/runs/{against}/paired/{id}``
        (accuracy difference this - against with a paired bootstrap interval, McNemar,
        flipped pairs), like ``preflens diagnose RUN --against OTHER``."""
        from db.read import diagnostics as diag

        def read(session: Session) -> dict[str, Any]:
            out = diag.run_diagnostics(session, self.id, b=b, seed=seed)
            if against is not None:
                other = against.id if isinstance(against, Run) else int(against)
                out = {**out, "paired": diag.paired(session, other, self.id, b=b, seed=seed)}
            return out

        return self.store._read(read)

    def cases(
        self,
        *,
        min_gap: float | None = None,
        max_gap: float | None = None,
        category: str | None = None,
        split: str | None = None,
        q: str | None = None,
        sort: str = "gap_desc",
        limit: int | None = 50,
        a: str | None = None,
        b: str | None = None,
    ) -> pd.DataFrame:
        """The run's cases with the filters of ``GET /v1/cases`` (and the dashboard's
        Cases page): gap in [``min_gap``, ``max_gap``], ``category``, ``split``, words
        ``q`` that must all occur in the prompt or a response, in ``sort`` order
        (``gap_desc``, ``gap_asc``, ``abs_gap``: closest to a tie first, or ``suspicion``:
        a score run's pairs most likely mislabelled first, with ``suspicion`` and
        ``signals`` columns), at most
        ``limit`` rows (None: all). Texts are 200-character previews. A score run's cases
        are its pairs (gap = chosen - rejected); a score_generations run's are the prompts
        policies ``a`` and ``b`` both answered (gap = A - B)."""
        import pandas as pd

        from db.read import search_cases

        if limit is not None and limit < 1:
            raise QueryError(f"limit {limit}: give at least 1, or None for every case")
        items: list[dict[str, Any]] = []
        cursor = None
        filters = dict(min_gap=min_gap, max_gap=max_gap, category=category, split=split, q=q)
        while limit is None or len(items) < limit:
            size = CASES_PAGE if limit is None else min(CASES_PAGE, limit - len(items))
            page = self.store._read(
                search_cases, self.id, sort=sort, limit=size, cursor=cursor, a=a, b=b, **filters
            )
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return pd.DataFrame(items)

    def states(self) -> dict[str, Any]:
        """The state vectors the run kept (``--keep-states``), float32 numpy arrays, one row
        each, in id order. A score run: ``pair_id``, ``prompt``, ``chosen``, ``rejected``
        (the state at the prompt's last token and at each response's last token) with the
        pair's ``gap``. A score_generations run: ``generation_id``, ``pair_id``, ``policy``
        and ``state`` (the last token of prompt + answer). Each vector is the hidden state
        the reward head reads, times a fixed seeded random projection to 64 dims, stored
        as float16 (``preflens.states``). Raises when the run kept none."""
        from db.read.maps import generation_states, pair_states

        if self.kind not in ("score", "score_generations"):
            raise QueryError(f"run {self.id} is a {self.kind} run; states are kept by score runs")
        reader = pair_states if self.kind == "score" else generation_states
        got = self.store._read(reader, self.id)
        if not len(got["pair_id"]):
            raise QueryError(f"run {self.id} kept no state vectors; score again with --keep-states")
        if self.kind == "score":
            keep = ("pair_id", "prompt", "chosen", "rejected", "gap")
            got = {k: got[k] for k in keep}
        return got

    def metrics(self, names: list[str] | None = None) -> pd.DataFrame:
        """A training run's logged metrics, one row per (name, step): ``name`` (e.g.
        ``train/loss``, ``eval/accuracy``), ``step``, ``value``; as ``GET /v1/metrics``."""
        import pandas as pd

        from db.read import metrics

        data = self.store._read(metrics, [self.id], names)
        rows = [
            {"name": name, "step": step, "value": value}
            for name, s in data["runs"][0]["series"].items()
            for step, value in zip(s["steps"], s["values"], strict=True)
        ]
        return pd.DataFrame(rows, columns=["name", "step", "value"])


def _expect_kind(run: Run, kind: str) -> None:
    if run.kind != kind:
        raise QueryError(
            f"run {run.id} is a {run.kind} run: pairs() reads score runs, answers() "
            "score_generations runs (`preflens score-generations` scores a generation run)"
        )
