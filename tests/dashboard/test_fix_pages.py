"""The Suspects page, a case's flag in Cases and the Diagnostics slices table through
AppTest on the seeded store (numbers are db.read.suspects' and db.read.slices')."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from db.flags import set_flag
from db.read.slices import run_slices
from db.read.suspects import suspects
from db.schema import Pair
from tests.backend.seed import add_score_run
from tests.dashboard.conftest import APP


def _open(path: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page(path)
    if query:
        at.query_params = dict(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_suspects_page_lists_the_ranking_with_flags(store, dash):
    pid = dash.base.pair_ids[2]
    with store() as s:
        set_flag(s, pid, "bad-prompt", "unclear question", "cli")
        s.commit()
        ds_id = s.get(Pair, pid).dataset_id
    # A run that ranks every pair backwards: no signal, named as left out.
    ids = dash.base.pair_ids
    backwards = add_score_run(store, ds_id, ids, [-1.0 - i % 3 for i in range(len(ids))], "k-bw")
    with store() as s:
        expect = suspects(s, "toy", limit=50)
    at = _open("app_pages/suspects.py")
    table = next(df.value for df in at.dataframe if "suspicion" in df.value.columns)
    assert table["pair_id"].tolist() == [r["pair_id"] for r in expect["suspects"]]
    assert table["suspicion"].tolist() == [r["suspicion"] for r in expect["suspects"]]
    assert table.set_index("pair_id").loc[pid, "flag"] == "bad-prompt"
    assert any("Flag:" in m.value for m in at.markdown)
    assert [r["run"] for r in expect["skipped"]] == [backwards]
    for r in expect["skipped"]:
        assert any(
            f"Left out: run {r['run']}" in c.value and "temperature fit failed" in c.value
            for c in at.caption
        )


def test_a_case_shows_its_flag_and_diagnostics_its_slices(store, dash):
    pid = dash.base.pair_ids[0]
    with store() as s:
        set_flag(s, pid, "mislabelled", "", "alice")
        s.commit()
        expect = run_slices(s, dash.base.score_run)
    at = _open("app_pages/cases.py", {"run": str(dash.base.score_run), "case": str(pid)})
    assert any("**mislabelled**" in m.value and "alice" in m.value for m in at.markdown)
    at = _open("app_pages/diagnostics.py")
    at.selectbox(key="diag_run").set_value(dash.base.score_run).run()
    table = next(df.value for df in at.dataframe if "p Holm" in df.value.columns)
    assert table["slice"].tolist() == [r["slice"] for r in expect["slices"]]
