"""The dashboard in a real browser: a real `streamlit` server and a real `preflens serve`
on loopback, over a seeded store, driven by Debian's chromium through the playwright
package (never `playwright install`). Saves one screenshot per page under
artifacts/screenshots/, checks that HTML and script in model text show as text and run
nothing, and scores a pair on the Live page through the real backend.

Skips when /usr/bin/chromium is missing, except under CI=true (`.ci/run` installs it).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.dashboard.conftest import free_port
from tests.dashboard.seed import XSS_IMG, XSS_SCRIPT, seed_dashboard_store

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
]


def need_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: `apt-get install chromium chromium-driver` (.ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + "; under CI=true the browser test must run")
    pytest.skip(reason)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(check, what: str, log: Path, proc: subprocess.Popen, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    pytest.fail(f"{what} did not start:\n" + log.read_text()[-3000:])


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 (False while its server is still starting)."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def dashboard_server(
    db_url: str, tmp_path: Path, api_url: str = "http://127.0.0.1:9", env: dict | None = None
) -> Iterator[tuple[str, dict]]:
    """A `streamlit` dashboard over ``db_url`` on a free loopback port, answering its health
    check when entered; yields (url, env) and stops it on exit. Its log is
    tmp_path/dashboard.log; the default ``api_url`` is a closed port (no backend)."""
    if env is None:
        env = {**os.environ, "PREFLENS_DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}
    log, port = tmp_path / "dashboard.log", free_port()
    from dashboard.launch import start_dashboard

    with log.open("w") as out:
        proc = start_dashboard(
            "127.0.0.1", port, api_url, env=env, cwd=REPO, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{url}/_stcore/health"), "streamlit", log, proc)
        yield url, env
    finally:
        stop(proc)


@pytest.fixture
def servers(store, db_url, tiny_lm, tmp_path) -> Iterator[dict]:
    """The seeded store, `preflens serve` with the tiny RM and the dashboard, both on free
    loopback ports; started together (the backend takes longest: it loads torch)."""
    need_chromium()
    seeded = seed_dashboard_store(store)
    env = {
        **os.environ,
        "PREFLENS_DATABASE_URL": db_url,
        "PREFLENS_BATCH_WAIT_MS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PREFLENS_API_KEY", None)
    api_log, api_port = tmp_path / "api.log", free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    with api_log.open("w") as out:
        api = subprocess.Popen(
            [sys.executable, "-m", "preflens", "serve", "--rm", str(tiny_lm)]
            + ["--host", "127.0.0.1", "--port", str(api_port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with dashboard_server(db_url, tmp_path, api_url, env=env) as (dash_url, _):
            wait_for(lambda: answers(f"{api_url}/readyz"), "preflens serve", api_log, api)
            yield {"seeded": seeded, "dashboard": dash_url, "api": api_url, "env": env}
    finally:
        stop(api)


@contextmanager
def open_browser(width: int = 1400, timeout_ms: int = 60_000) -> Iterator:
    """One chromium page, ``width`` px wide and 1000 px high, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 1000})
        page.set_default_timeout(timeout_ms)
        try:
            yield page
        finally:
            browser.close()


@pytest.fixture
def browser_page():
    with open_browser() as page:
        yield page


def settle(page, visible_only: bool = False) -> None:
    """Wait until the script run has finished and every chart has drawn; with
    ``visible_only`` every shown chart only (a chart in a tab that is not open draws only
    when the tab opens)."""
    shown = ".filter(c => c.offsetParent !== null)" if visible_only else ""
    page.wait_for_function(
        "!document.querySelector('[data-testid=stStatusWidget]')"
        " && [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]"
        f"{shown}.every(c => c.querySelector('svg, canvas'))"
    )
    page.wait_for_timeout(500)


def settle_visible(page) -> None:
    """``settle`` for the shown charts only."""
    settle(page, visible_only=True)


def shoot(page, name: str) -> Path:
    """A screenshot of the whole page: Streamlit scrolls inside its main block, so the
    viewport is grown to the content's height first."""
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(1000, min(int(height), 12000))})
    page.wait_for_timeout(700)
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1400, "height": 1000})
    assert path.stat().st_size > 10_000
    return path


def no_script_ran(page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert not page.evaluate("[...document.scripts].some(s => s.textContent.includes('__xss'))")


def test_every_page_in_a_real_browser(servers, browser_page):
    page, base = browser_page, servers["dashboard"]
    seeded = servers["seeded"]
    views = [
        ("1-overview", "", "Headline numbers"),
        ("2-reward-model", "reward-model", "Accuracy per category"),
        ("3-training", "training", "Last values"),
        ("4-policies", "policies", "Length against score"),
    ]
    for name, path, text in views:
        page.goto(f"{base}/{path}")
        page.get_by_text(text).first.wait_for()
        settle(page)
        assert not page.locator("[data-testid=stException]").count(), name
        shoot(page, name)
        no_script_ran(page)
    # Real numbers: the accuracy of the newest finished score run.
    page.goto(f"{base}/reward-model")
    page.get_by_text("Accuracy per category", exact=True).wait_for()
    settle(page)
    assert "0.675" in page.locator("[data-testid=stMetricValue]").all_inner_texts()

    # Cases: the pair whose texts hold <script> and <img onerror> comes first by gap.
    page.goto(f"{base}/cases?run={seeded.base.score_run}&sort=gap_desc")
    page.get_by_text(f"Pair {seeded.xss_pair}", exact=True).first.wait_for()
    settle(page)
    page.get_by_text(XSS_SCRIPT).first.wait_for()  # visible as text
    assert page.get_by_text(XSS_IMG).first.is_visible()
    no_script_ran(page)
    shoot(page, "5-cases")
    # Open it in full: the URL carries the case, so the link can be shared.
    page.get_by_role("button", name="Open in full").first.click()
    page.get_by_text(f"Pair {seeded.xss_pair} in full").wait_for()
    page.wait_for_url(re.compile(rf"case={seeded.xss_pair}"))
    settle(page)
    no_script_ran(page)
    shoot(page, "6-case")


def test_a_bad_link_shows_no_stack_trace(servers, browser_page):
    """A case id no store can hold and a forged cursor: a page, never a stack trace or a
    server path (the real server runs with error details off)."""
    page, base = browser_page, servers["dashboard"]
    run = servers["seeded"].base.score_run
    links = [
        "cases?run=1&case=999999999999999999999999",
        f"cases?run={run}&cursor=eyJrIjoxZTMwMCwiaWQiOjEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMCwiZiI6IngifQ&page=2",
        f"cases?run={run}&case={2**63 - 1}",
    ]
    for link in links:
        page.goto(f"{base}/{link}")
        page.get_by_text("Cases", exact=True).first.wait_for()
        settle(page)
        body = page.inner_text("body")
        assert "Traceback" not in body, link
        assert str(REPO) not in body and "site-packages" not in body and "/work/" not in body
        assert not page.locator("[data-testid=stException]").count(), link
    shoot(page, "8-bad-link")


def test_live_scoring_through_the_real_backend(servers, browser_page):
    page, base = browser_page, servers["dashboard"]
    page.goto(f"{base}/live")
    page.get_by_text("Live scoring").first.wait_for()
    page.get_by_label("Prompt").fill("Is water wet?")
    page.get_by_label("Response A").fill("Water makes things wet.")
    page.get_by_label("Response B (optional)").fill(f"No. {XSS_SCRIPT}")
    page.get_by_role("button", name="Score", exact=True).click()
    # The metric tile, not the untrained-head warning (which names P(A preferred) too).
    page.locator("[data-testid=stMetricLabel]", has_text="P(A preferred)").wait_for()
    settle(page)
    expected = httpx.post(
        f"{servers['api']}/v1/compare",
        json={
            "prompt": "Is water wet?",
            "response_a": "Water makes things wet.",
            "response_b": f"No. {XSS_SCRIPT}",
        },
        timeout=60,
    ).json()
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    assert f"{expected['score_a']:.4f}" in values and f"{expected['score_b']:.4f}" in values
    assert f"{expected['p_a_preferred']:.3f}" in values
    assert page.locator("[data-testid=stVegaLiteChart]").count() == 1  # the marked histogram
    assert not page.locator("[data-testid=stAlertContentError]").count()
    no_script_ran(page)
    shoot(page, "7-live")
