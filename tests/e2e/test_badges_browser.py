"""Verdict badges in a real browser (Debian chromium via the playwright package): a store
with an untrained reward model that ranks pairs backwards (worse than chance) and a
generation comparison whose answers are mostly cut at the token limit. The Overview's
headline table names each verdict beside the run it belongs to. Skips without
/usr/bin/chromium, as the main browser test."""

from __future__ import annotations

from db.read.headlines import run_headlines, score_headline
from preflens import headline as hl
from tests.diagnostics_seed import seed_comparisons
from tests.e2e.test_browser import dashboard_server, need_chromium, open_browser, settle


def test_overview_shows_the_verdicts_of_a_backwards_rm_and_a_mostly_cut_comparison(
    store, db_url, tmp_path
):
    need_chromium()
    seeded = seed_comparisons(store)
    with store() as s:  # what the store says, independently of the page
        backwards = score_headline(s, seeded.backwards_run)["verdicts"]
        cut = run_headlines(s, seeded.diag.base.gen_score_run)[0]["verdicts"]
    assert {hl.BELOW_CHANCE, hl.UNTRAINED} <= set(backwards) and hl.MOST_CUT in cut
    with dashboard_server(db_url, tmp_path) as (url, _), open_browser(1440) as page:
        page.goto(url)
        page.get_by_text("Headline numbers").first.wait_for()
        settle(page)
        for verdict in (hl.BELOW_CHANCE, hl.UNTRAINED, hl.MOST_CUT):
            cells = page.get_by_text(verdict)
            assert cells.count() >= 1, f"no {verdict!r} on the Overview"
            assert cells.first.is_visible()
        # The backwards run's headline row carries both of its verdicts (the run may
        # also have a row in the runs table, without verdicts).
        rows = page.locator("tr").filter(has_text=f"#{seeded.backwards_run} ")
        texts = [rows.nth(i).inner_text() for i in range(rows.count())]
        assert any(hl.BELOW_CHANCE in t and hl.UNTRAINED in t for t in texts), texts
