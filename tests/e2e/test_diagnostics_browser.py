"""The Diagnostics page and the offline HTML report in a real browser (Debian chromium via
the playwright package): screenshots under artifacts/screenshots/, no exception shown,
model text shown as text. Skips without /usr/bin/chromium, as the main browser test."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import REPO
from tests.diagnostics_seed import seed_diagnostics
from tests.e2e.test_browser import browser_page, dashboard_server, need_chromium, settle, shoot

__all__ = ["browser_page"]  # the fixture, imported for this module's tests

XSS = "<script>window.__xss = 1</script>"


@pytest.fixture
def dashboard(store, db_url, tmp_path) -> Iterator[dict]:
    need_chromium()
    seeded = seed_diagnostics(store)
    from db.schema import Pair

    with store() as s:  # the most confidently wrong pair carries markup in its text
        s.get(Pair, seeded.base.pair_ids[0]).chosen = XSS
        s.commit()
    with dashboard_server(db_url, tmp_path) as (url, env):
        yield {"url": url, "seeded": seeded, "env": env}


def test_diagnostics_page_and_report_in_a_browser(dashboard, browser_page, tmp_path):
    page = browser_page
    page.goto(f"{dashboard['url']}/diagnostics")
    page.get_by_text("Reliability diagram").first.wait_for()
    page.get_by_text("Most confidently wrong pairs").first.wait_for()
    settle(page)
    assert not page.locator("[data-testid=stException]").count()
    shoot(page, "7-diagnostics")
    assert page.evaluate("typeof window.__xss") == "undefined"

    seeded = dashboard["seeded"]
    report = tmp_path / "report.html"
    cmd = ["-m", "preflens", "report", str(seeded.after_run), "--against"]
    cmd += [str(seeded.base.score_run), "-o", str(report)]
    subprocess.run([sys.executable, *cmd], cwd=REPO, env=dashboard["env"], check=True, timeout=300)
    page.route(
        "**/*",
        lambda route: route.abort() if route.request.url.startswith("http") else route.continue_(),
    )
    page.goto(report.as_uri())
    page.get_by_text("Most confidently wrong pairs").wait_for()
    assert page.locator("svg").count() >= 4
    assert page.evaluate("typeof window.__xss") == "undefined"
    page.get_by_text(XSS).first.wait_for()  # shown as text
    (REPO / "artifacts" / "screenshots").mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1200, "height": 3000})
    page.screenshot(path=str(REPO / "artifacts" / "screenshots" / "8-report.png"), full_page=True)
