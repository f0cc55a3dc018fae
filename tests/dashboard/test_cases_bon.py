"""Cases in best-of-N mode (cases?bon=RUN) through AppTest: per prompt the proxy's pick
beside the random sample, with the numbers and texts of db.read.bon.bon_summary; model
text shown as text; the run and an opened prompt kept in the URL."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from db.read.bon import bon_summary
from db.schema import Generation
from tests.over_seed import seed_bon

PAGE = "app_pages/cases.py"
HOSTILE = "<script>alert(1)</script> [link](http://x) **bold**"


def _open(query):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page(PAGE)
    at.query_params = query
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_bon_mode_shows_the_pick_beside_a_random_sample(store, app_env):
    bon_id, roles, table = seed_bon(store)
    first_pair = min(table)
    with store() as s:  # a hostile answer: sample #0 of the first prompt
        g = s.scalar(
            select(Generation).where(
                Generation.run_id == bon_id,
                Generation.pair_id == first_pair,
                Generation.policy == "base#0",
            )
        )
        g.text = HOSTILE
        s.commit()
        want = bon_summary(s, bon_id)
    at = _open({"bon": str(bon_id), "case": str(first_pair)})
    labels = [e.label for e in at.expander]
    assert [int(x.split(":")[0].split()[1]) for x in labels] == [
        p["pair_id"] for p in want["picks"]
    ]
    captions = " ".join(c.value for c in at.caption)
    texts = [t.value for t in at.text]
    for pick in want["picks"]:
        # the pick is the proxy's first maximum over the pair's N answers (seeded table)
        proxy = [row[0] for row in table[pick["pair_id"]]]
        assert pick["best"]["sample"] == int(np.argmax(proxy))
        for side, title in ((pick["best"], "best of N"), (pick["random"], "random sample")):
            assert (
                f"{title}" in captions
                and f"sample #{side['sample']}, proxy RM {side['proxy']:.3f}, "
                f"gold RM {side['gold']:.3f}, {side['tokens']:.0f} generated tokens"
                in captions
            )
            assert side["text"] in texts
    assert HOSTILE in texts  # shown verbatim as text, not as Markdown or HTML
    assert at.query_params["bon"] == [str(bon_id)] or at.query_params["bon"] == str(bon_id)


def test_cases_without_bon_param_is_the_usual_page(store, app_env):
    seed_bon(store)
    at = _open({})
    assert "No scored runs yet" in " ".join(i.value for i in at.info)
    assert not at.expander


def test_over_training_links_its_picks_to_cases(store, app_env):
    bon_id, _, _ = seed_bon(store)
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page("app_pages/over_training.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"(cases?bon={bon_id})" in " ".join(m.value for m in at.markdown)
