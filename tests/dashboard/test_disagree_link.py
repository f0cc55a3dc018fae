"""Probes' "pairs where they disagree" count is a link that opens exactly those pairs in
Cases (``disagree=<score_dpo run>``), with the match count; the filter, its API twin and
its refusal of a DPO run on other pairs. Expected pairs are computed here from the stored
gaps, not through the read under test."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard.state import CaseQuery, cases_link
from db import read
from db.schema import DpoScore, PairScore, Run
from preflens.errors import IncomparableError
from tests.dashboard.test_cases_page import headers, links_in, query_of


def seed_dpo_on(store, rm_run: int, split: str = "same") -> tuple[int, list[int]]:
    """A score_dpo run over the RM run's pairs whose gap agrees in sign on every third
    pair only (``split``: the RM run's unless given); returns its id and the pairs where
    the two disagree (each prefers chosen where its gap > 0)."""
    with store() as s:
        rm = s.get(Run, rm_run)
        rows = select(PairScore.pair_id, PairScore.gap).where(PairScore.run_id == rm_run)
        gaps = dict(s.execute(rows).tuples().all())
        split = rm.split if split == "same" else split
        config = {"beta": 0.1, "reference_free": False}
        dpo = Run(kind="score_dpo", key=f"k-dpo-{split}", status="done", split=split,
                  dataset_id=rm.dataset_id, config=config)  # fmt: skip
        s.add(dpo)
        s.flush()
        disagree = []
        for i, (pair_id, gap) in enumerate(sorted(gaps.items())):
            same = i % 3 == 0
            dpo_gap = (0.3 if gap > 0 else -0.3) * (1 if same else -1)
            if (gap > 0) != (dpo_gap > 0):
                disagree.append(pair_id)
            s.add(DpoScore(run_id=dpo.id, pair_id=pair_id, category=None,
                           logp_policy_chosen=-1.0, logp_policy_rejected=-1.0,
                           logp_ref_chosen=-1.0, logp_ref_rejected=-1.0,
                           tokens_chosen=5, tokens_rejected=5, reward_chosen=dpo_gap,
                           reward_rejected=0.0, gap=dpo_gap))  # fmt: skip
        s.commit()
        return dpo.id, sorted(disagree)


def test_the_disagreement_count_opens_exactly_those_pairs(store, dash, open_page):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    rm = dash.after_run
    dpo, expected = seed_dpo_on(store, rm)
    assert 0 < len(expected) <= 50
    with store() as s:
        found = read.search_cases(s, rm, disagree=dpo, limit=50)
    assert sorted(i["pair_id"] for i in found["items"]) == expected
    assert found["total"] == len(expected)

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/probes.py")
    at.session_state["probes_dpo_run"] = dpo
    at.session_state["probes_rm_run"] = rm
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    link = links_in(at)[f"**{len(expected)} pairs where they disagree**"]
    assert link == cases_link(run=rm, disagree=dpo)

    at = open_page("cases", query_of(link) | {"limit": "50"})
    assert sorted(headers(at)) == expected
    assert any(f"of {len(expected)}," in c.value for c in at.caption)
    assert any(f"DPO implicit reward of run {dpo}" in i.value for i in at.info)
    at.button(key="cases_all_disagree").click().run()
    assert "disagree" not in at.query_params


def test_the_disagree_filter_round_trips_and_refuses_other_pairs(store, dash):
    q = CaseQuery.from_params({"run": "3", "disagree": "7"})
    assert q.disagree == 7 and q.to_params()["disagree"] == "7"
    assert q.search_kwargs()["disagree"] == 7
    assert CaseQuery.from_params({"disagree": "-1"}).disagree is None
    other, _ = seed_dpo_on(store, dash.after_run, split="train")
    with store() as s, pytest.raises(IncomparableError, match="different pairs"):
        read.search_cases(s, dash.after_run, disagree=other)


@pytest.mark.slow  # the app's start-up takes ~15 s here
def test_the_api_twin_filters_the_same_pairs(store, dash, db_url, monkeypatch):
    from fastapi.testclient import TestClient

    from backend.app import create_app
    from preflens.config import get_settings

    dpo, expected = seed_dpo_on(store, dash.after_run)
    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    with TestClient(create_app(get_settings(), reward_model=None, policies={})) as client:
        got = client.get("/v1/cases", params={"run": dash.after_run, "disagree": dpo, "limit": 50})
        assert got.status_code == 200, got.text
        assert sorted(i["pair_id"] for i in got.json()["items"]) == expected
        bad = client.get("/v1/cases", params={"run": dash.after_run, "disagree": dash.after_run})
        assert bad.status_code == 422 and "not a score_dpo run" in bad.text
        some = expected[:3]
        params = {"run": dash.after_run, "pairs": ",".join(map(str, some)), "limit": 50}
        listed = client.get("/v1/cases", params=params).json()
        assert sorted(i["pair_id"] for i in listed["items"]) == some and listed["total"] == 3
        huge = client.get("/v1/cases", params={"run": dash.after_run, "pairs": "1," + "9" * 30})
        assert huge.status_code == 422 and "above" in huge.text


def test_the_listed_suspects_open_together_in_cases(store, dash, open_page):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP
    from tests.dashboard.test_pages import frame_with

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/suspects.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    listed = [int(p) for p in frame_with(at, "rank", "suspicion")["pair_id"]]
    (text, link), *_ = [(t, v) for t, v in links_in(at).items() if t.startswith("Open these")]
    assert text == f"Open these {len(listed)} pairs in Cases"
    query = query_of(link)
    assert [int(p) for p in query["pairs"].split(",")] == listed

    at = open_page("cases", query | {"limit": "50"})
    with store() as s:
        scored = {i["pair_id"] for i in read.search_cases(s, int(query["run"]), limit=500)["items"]}
    expected = sorted(set(listed) & scored)
    assert expected and sorted(headers(at)) == expected[:50]
    assert any(f"of {len(expected)}," in c.value for c in at.caption)
    at.button(key="cases_all_listed").click().run()
    assert "pairs" not in at.query_params


def test_a_pair_list_link_parses_leniently_and_is_bounded(store, dash):
    q = CaseQuery.from_params({"pairs": "7,x,3,7,-1"})
    assert q.pairs == "7,3" and q.search_kwargs()["pair_ids"] == [7, 3]
    assert CaseQuery.from_params({"pairs": "x"}).pairs is None
    from db.read.cases import MAX_PAIR_IDS
    from preflens.errors import QueryError

    with store() as s, pytest.raises(QueryError, match="at most"):
        read.search_cases(s, dash.after_run, pair_ids=list(range(1, MAX_PAIR_IDS + 2)))
