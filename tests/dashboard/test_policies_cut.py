"""Policies warns, before its win rate, when most answers hit the token limit, and links
to exactly those answers in Cases."""

from __future__ import annotations

from urllib.parse import parse_qsl

from db import read
from tests.dashboard.seed_cut import CUT, MAX_NEW_TOKENS, PROMPTS, seed_mostly_cut


def test_most_answers_cut_is_said_before_the_win_rate(store, dash, open_page):
    cut = seed_mostly_cut(store, dash.base)
    at = open_page("policies")
    at.selectbox(key="pol_run").set_value(cut.gen_score_run).run()
    (warning,) = [w.value for w in at.warning if "Most answers were cut" in w.value]
    assert f"the {MAX_NEW_TOKENS}-token limit" in warning
    for policy, n in CUT.items():
        assert f"{policy} {n} of {PROMPTS}" in warning
    # Before the win rate: the warning comes first in the page.
    body = [getattr(e, "value", "") for e in at.main]
    first_warning = next(i for i, v in enumerate(body) if "Most answers were cut" in str(v))
    first_metric = next(i for i, e in enumerate(at.main) if e.type == "metric")
    assert first_warning < first_metric
    # Its link lists exactly the prompts with a cut answer.
    query = dict(parse_qsl(warning.split("](cases?", 1)[1].split(")", 1)[0]))
    assert query["cut"] == "1" and query["run"] == str(cut.gen_score_run)
    with store() as s:
        page = read.search_cases(
            s, cut.gen_score_run, cut=True, a=query["a"], b=query["b"], limit=50
        )
    assert page["total"] == max(CUT.values())

    # The seeded comparison (a quarter cut) gets no warning.
    at.selectbox(key="pol_run").set_value(dash.base.gen_score_run).run()
    assert not [w for w in at.warning if "Most answers were cut" in w.value]
