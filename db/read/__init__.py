"""Read queries behind the HTTP API and the dashboard, returning plain JSON-able values.

Every function takes a ``Session`` first and never commits. Aggregates run in SQL
(counts, min/max, histogram bins, ranks) or in numpy over numeric columns; no function
loads the texts of a whole run, so they stay fast with a million scored pairs. The API
and the dashboard call these same functions, so their numbers match exactly.

Two kinds of run hold scores:

- ``score`` runs: one ``pair_score`` row per pair (chosen vs rejected, gap = chosen -
  rejected). Sides: ``chosen``, ``rejected``, ``gap``.
- ``score_generations`` runs: one ``generation_score`` row per stored answer. A
  *comparison* is policy A against policy B on the prompts both answered, gap =
  score_A - score_B. Sides: ``score`` (one ``policy``) and ``gap`` (``a`` - ``b``; by
  default the run's first comparison, A the later-listed policy, e.g. dpo vs base).
"""

from db.read.case_detail import get_case
from db.read.cases import search_cases
from db.read.catalog import (
    get_dataset,
    get_run,
    list_checkpoints,
    list_datasets,
    list_runs,
    run_dict,
    run_scorer,
)
from db.read.common import (
    CASE_SORTS,
    GENERATION_SIDES,
    PAIR_SIDES,
    PREVIEW_CHARS,
    default_comparison,
    public,
    run_policies,
)
from db.read.distributions import box_stats, cdf, generation_scatter, histogram, score_percentile
from db.read.inputs import (
    count_pairs,
    dataset_counts,
    dataset_hash,
    empty_selection,
    pairs_of,
    pairs_query,
    run_gaps,
    selection,
    unscored_pairs,
)
from db.read.summaries import (
    generate_run_summary,
    generation_summary,
    metrics,
    run_summary,
    score_run_summary,
    score_summary,
)

__all__ = [
    "CASE_SORTS",
    "GENERATION_SIDES",
    "PAIR_SIDES",
    "PREVIEW_CHARS",
    "box_stats",
    "cdf",
    "count_pairs",
    "dataset_counts",
    "dataset_hash",
    "empty_selection",
    "default_comparison",
    "generation_scatter",
    "generate_run_summary",
    "generation_summary",
    "get_case",
    "get_dataset",
    "get_run",
    "histogram",
    "list_checkpoints",
    "list_datasets",
    "list_runs",
    "metrics",
    "pairs_of",
    "pairs_query",
    "public",
    "run_dict",
    "run_gaps",
    "run_policies",
    "run_scorer",
    "run_summary",
    "score_percentile",
    "score_run_summary",
    "score_summary",
    "search_cases",
    "selection",
    "unscored_pairs",
]
