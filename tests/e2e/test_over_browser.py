"""The Over training page in a real browser (Debian chromium via the playwright package)
on seeded runs: both tabs drawn, no exception shown, model text shown as text;
screenshots under artifacts/screenshots/. Skips without /usr/bin/chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.e2e.test_browser import (
    browser_page,
    dashboard_server,
    need_chromium,
    settle_visible,
    shoot,
)
from tests.over_seed import seed_bon, seed_series

__all__ = ["browser_page"]  # the fixture, imported for this module's tests

XSS = "<img src=x onerror='window.__xss = 1'>"


@pytest.fixture
def dashboard(store, db_url, tmp_path) -> Iterator[str]:
    need_chromium()
    seed_series(store)
    bon_id, _, _ = seed_bon(store)
    from sqlalchemy import select

    from db.schema import Generation

    with store() as s:  # an answer carries markup: it must show as text
        for g in s.scalars(select(Generation).where(Generation.run_id == bon_id)):
            g.text = XSS
        s.commit()
    with dashboard_server(db_url, tmp_path) as (url, _):
        yield url


@pytest.mark.slow  # about a minute on this CPU: starts the dashboard and a browser
def test_over_training_page_in_a_browser(dashboard, browser_page):
    page = browser_page
    page.goto(f"{dashboard}/over-training")
    page.get_by_text("Held-out accuracy per step").first.wait_for()
    page.get_by_text("Pairs that flip more than once").first.wait_for()
    settle_visible(page)
    assert not page.locator("[data-testid=stException]").count()
    assert (
        page.locator(
            "[data-testid=stVegaLiteChart] svg, [data-testid=stVegaLiteChart] canvas"
        ).count()
        >= 6
    )
    shoot(page, "9-over-training-series")
    page.get_by_role("tab", name="Best-of-N").click()
    page.get_by_text("expected value of the proxy's best-of-k pick").first.wait_for()
    page.get_by_text("The best-of-N pick beside a random sample").wait_for()
    page.get_by_text(re.compile(r"^pair \d+: ")).first.click()  # the first prompt's pick
    page.get_by_text(XSS).first.wait_for()  # the answer is shown as text
    settle_visible(page)
    assert page.evaluate("typeof window.__xss") == "undefined"
    shoot(page, "10-best-of-n")
