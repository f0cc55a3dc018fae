"""The Map page in a real browser (Debian chromium via the playwright package): a mapped
two-topic run draws its points (an SVG or canvas with marks) and writes its cluster names;
a cluster's Cases link opens its pairs. Skips without /usr/bin/chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.test_browser import browser_page, dashboard_server, need_chromium, settle, shoot
from tests.map_seed import two_topic_store

__all__ = ["browser_page"]  # the fixture, imported for this module's tests


@pytest.fixture
def mapped_dashboard(store, db_url, tmp_path) -> Iterator[dict]:
    need_chromium()
    from training.jobs.map_pairs import run_map_job

    run_id, _ = two_topic_store(store, 40)
    result = run_map_job(store, run_id, method="pca", k=2)
    with dashboard_server(db_url, tmp_path) as (url, _):
        yield {"url": url, "run_id": run_id, "clusters": result["clusters"]}


@pytest.mark.slow  # about 2 minutes on this CPU: starts the dashboard and a browser
def test_map_page_in_a_browser(mapped_dashboard, browser_page):
    page = browser_page
    page.goto(f"{mapped_dashboard['url']}/map")
    page.get_by_text("Clusters, worst accuracy first").wait_for()
    chart = page.locator("[data-testid=stVegaLiteChart]").first
    chart.wait_for()
    settle(page)
    assert not page.locator("[data-testid=stException]").count()
    # Vega draws marks into an SVG or a canvas; the names are also in the chart's data.
    assert chart.locator("canvas, svg").count() >= 1
    worst = mapped_dashboard["clusters"][0]
    page.get_by_text(worst["name"]).first.wait_for()
    shoot(page, "9-map")
    # The table's links are drawn in a canvas grid (their targets are checked through
    # AppTest); here the same link opens Cases on the cluster's pairs.
    page.goto(
        f"{mapped_dashboard['url']}/cases?run={mapped_dashboard['run_id']}&cluster={worst['id']}"
    )
    page.get_by_text(f"in cluster {worst['id']}").first.wait_for()
    settle(page)
    assert not page.locator("[data-testid=stException]").count()
