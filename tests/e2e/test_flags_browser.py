"""A flag set in Cases (a real browser, the real backend and dashboard) is written through
the API, shows after a reload and is listed by `preflens flags`; the Suspects page and the
Diagnostics slices table render."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.e2e.test_browser import browser_page, servers, settle, shoot

__all__ = ["browser_page", "servers"]  # the fixtures, imported for this module's tests


@pytest.mark.slow  # about 2-3 minutes: starts the backend and the dashboard
def test_a_flag_set_in_cases_shows_on_reload_and_in_preflens_flags(servers, browser_page):
    page = browser_page
    seeded = servers["seeded"].base
    pid = seeded.pair_ids[4]
    url = f"{servers['dashboard']}/cases?run={seeded.score_run}&case={pid}"
    page.goto(url)
    page.get_by_text(f"Pair {pid} in full").wait_for()
    page.get_by_text("Flag: none").wait_for()
    form = page.locator("[data-testid=stForm]").first
    form.locator("[data-testid=stSelectbox]").click()
    page.get_by_role("option", name="ambiguous").click()
    form.get_by_label("Note").fill("two fair answers")
    form.get_by_role("button", name="Save flag").click()
    page.get_by_text("ambiguous", exact=True).first.wait_for()
    page.get_by_text("set by api").wait_for()

    page.reload()
    page.get_by_text(f"Pair {pid} in full").wait_for()
    page.get_by_text("set by api").wait_for()
    settle(page)
    assert not page.locator("[data-testid=stException]").count()
    shoot(page, "flag-in-cases")

    listed = subprocess.run(
        [sys.executable, "-m", "preflens", "flags", "--json"],
        cwd=REPO,
        env=servers["env"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    flags = json.loads(listed.stdout)
    assert [(f["pair_id"], f["label"], f["note"], f["set_by"]) for f in flags] == [
        (pid, "ambiguous", "two fair answers", "api")
    ]

    page.goto(f"{servers['dashboard']}/suspects")
    page.get_by_text("Likely mislabelled pairs").first.wait_for()
    page.get_by_text("Flag a pair").wait_for()
    settle(page)
    assert not page.locator("[data-testid=stException]").count()
    shoot(page, "suspects")

    page.goto(f"{servers['dashboard']}/diagnostics")
    page.get_by_text("Slices").first.wait_for()
    page.get_by_text("slices tested").wait_for()
    settle(page)
    assert not page.locator("[data-testid=stException]").count()
