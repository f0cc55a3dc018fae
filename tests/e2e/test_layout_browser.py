"""Nothing is cut off, and a count leads to its pairs, in a real browser (Debian chromium
via the playwright package, as the main browser test): one `streamlit` server over a
seeded store (with a generation comparison whose answers are mostly cut, a probe run and
a score-dpo run), one page object reused for every page at 1440 px and at 1024 px.

For each page and width it checks that no tile, heading, caption or paragraph overflows
its box (scrollWidth against clientWidth of every clipping element), that no chart is
wider than its box or shows a label (title, legend, axis) cut with "…", and that no
table has columns hidden past its right edge (at 1024 px with the sidebar open the main
column is ~560 px: tables there keep few, narrow default columns). Screenshots go to
artifacts/screenshots/layout/<width>/ (one file per page). Skips without
/usr/bin/chromium, except under CI=true.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from tests.conftest import REPO
from tests.dashboard.conftest import free_port
from tests.dashboard.seed import seed_dashboard_store
from tests.dashboard.seed_cut import seed_mostly_cut, seed_probe_and_dpo
from tests.e2e.test_browser import dashboard_server, need_chromium, open_browser
from tests.e2e.test_browser import settle_visible as settle

SHOTS = REPO / "artifacts" / "screenshots" / "layout"
WIDTHS = (1440, 1024)
PAGES = [
    ("overview", "", "Headline numbers"),
    ("reward-model", "reward-model", "Accuracy per category"),
    ("training", "training", "Last values"),
    ("policies", "policies", "Length against score"),
    ("cases", "cases", "Open in full"),
    ("cases-table", "cases?view=table", "Select a row"),
    ("diagnostics", "diagnostics", "Diagnostics"),
    ("probes", "probes", "One pair, every edit"),
    ("probes-dpo", "probes", "Agreement with a reward model"),
    ("live", "live", "Live scoring"),
    ("over-training", "over-training", "Over training"),
    ("map", "map", "Map"),
    ("suspects", "suspects", "Flag a pair"),
]
# Page titles that other text on the page contains: matched exactly.
EXACT = ("Diagnostics", "Live scoring", "Over training", "Map")

# Everything cut on the page, as [what, where, text] (empty: nothing is cut).
CUT_TEXT = """
() => {
  const out = [];
  const main = document.querySelector('[data-testid=stMain]');
  const clips = (cs) => ['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis';
  const boxes = '[data-testid=stMetric], [data-testid=stHeading], [data-testid=stCaptionContainer],'
    + ' [data-testid=stMarkdownContainer], [data-testid=stAlertContainer]';
  for (const box of main.querySelectorAll(boxes)) {
    for (const el of [box, ...box.querySelectorAll('*')]) {
      if (el.clientWidth && el.scrollWidth > el.clientWidth + 1 && clips(getComputedStyle(el))) {
        out.push(['text', box.dataset.testid, (el.innerText || '').slice(0, 80)]);
        break;
      }
    }
  }
  for (const table of main.querySelectorAll('[data-testid=stDataFrame]')) {
    const scroller = table.querySelector('.dvn-scroller');
    if (scroller && scroller.scrollWidth > scroller.clientWidth + 1) {
      const keyed = table.closest('[class*=st-key-]');
      const key = keyed ? [...keyed.classList].find(c => c.startsWith('st-key-')) : '';
      out.push(['table', `columns past the right edge ${key}`,
        `${scroller.scrollWidth} > ${scroller.clientWidth}`]);
    }
  }
  for (const chart of main.querySelectorAll('[data-testid=stVegaLiteChart]')) {
    const box = chart.getBoundingClientRect();
    const svg = chart.querySelector('svg');
    if (svg && svg.getBoundingClientRect().right > box.right + 2) {
      const wide = svg.getBoundingClientRect().width;
      out.push(['chart', 'wider than its box', `${wide} > ${box.width}`]);
    }
    for (const t of chart.querySelectorAll('svg text')) {
      if (t.textContent.includes('\u2026')) out.push(['chart', 'label cut', t.textContent]);
    }
  }
  return out;
}
"""


@pytest.fixture
def dashboard(store, db_url, tmp_path) -> Iterator[dict]:
    """The seeded store and one dashboard on a free loopback port (no backend: the Live
    page says so, which is part of its layout)."""
    need_chromium()
    seeded = seed_dashboard_store(store)
    cut = seed_mostly_cut(store, seeded.base)
    seed_probe_and_dpo(store, seeded.base)
    # A free port with nothing on it: no backend.
    with dashboard_server(db_url, tmp_path, f"http://127.0.0.1:{free_port()}") as (url, _):
        yield {"url": url, "seeded": seeded, "cut": cut}


@pytest.fixture
def page():
    with open_browser(WIDTHS[0], timeout_ms=30_000) as tab:
        yield tab


def shoot(page, width: int, name: str) -> None:
    """The whole page (Streamlit scrolls inside its main block: the viewport grows to the
    content's height first)."""
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": width, "height": max(800, min(int(height), 12000))})
    page.wait_for_timeout(400)
    folder = SHOTS / str(width)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))
    page.set_viewport_size({"width": width, "height": 1000})


def open_view(page, base: str, name: str, path: str, text: str) -> None:
    page.goto(f"{base}/{path}")
    if name == "probes-dpo":
        page.get_by_role("tab", name="DPO per pair").click()
    page.get_by_text(text, exact=text in EXACT).first.wait_for()
    settle(page)


def test_no_text_is_cut_on_any_page(dashboard, page):
    """Every page at 1440 px and then, resized in place (no second page load: the same
    script run, laid out again), at 1024 px: no tile, heading, table or chart label cut."""
    base, problems = dashboard["url"], {}
    for name, path, text in PAGES:
        page.set_viewport_size({"width": WIDTHS[0], "height": 1000})
        open_view(page, base, name, path, text)
        assert not page.locator("[data-testid=stException]").count(), name
        for width in WIDTHS:
            if width != WIDTHS[0]:
                page.set_viewport_size({"width": width, "height": 1000})
                page.wait_for_timeout(600)  # charts and grids measure their new width
                settle(page)
            # Measured at the page's real width (before the tall screenshot viewport).
            found = page.evaluate(CUT_TEXT)
            shoot(page, width, name)
            if found:
                problems[f"{name} @ {width}px"] = found
    assert not problems, json.dumps(problems, indent=1)


def test_a_wrong_pairs_count_opens_exactly_those_pairs(dashboard, page, store):
    """Reward model -> click the wrong-pairs count -> Cases lists those pairs, with how
    many match; Policies warns that most answers were cut, before its win rate."""
    from db import read

    base, seeded = dashboard["url"], dashboard["seeded"]
    page.goto(f"{base}/reward-model")
    link = page.get_by_role("link", name=re.compile(r"^\d+ wrong pairs"))
    link.wait_for()
    count = int(link.inner_text().split()[0])
    run = seeded.after_run  # the newest finished score run: the page's default
    with store() as s:
        every = read.search_cases(s, run, limit=500)["items"]
    wrong = sorted(i["pair_id"] for i in every if i["gap"] <= 0)
    assert count == len(wrong)
    # A bar of the gap histogram opens its pairs too.
    settle(page)
    gap_chart = page.locator("[data-testid=stVegaLiteChart]").filter(has_text="right of 0")
    gap_chart.locator("g.mark-rect path:not([aria-label*='count: 0;'])").first.click()
    bar_link = page.get_by_role("link", name=re.compile("^Open the pairs with a gap from"))
    bar_link.wait_for()
    lo, hi = (float(x) for x in re.findall(r"-?\d+\.\d+", bar_link.inner_text())[:2])
    query = parse_qs(urlsplit(bar_link.get_attribute("href") or "").query)
    assert float(query["min_gap"][0]) == pytest.approx(lo, abs=1e-4) and lo < hi
    assert float(query["max_gap"][0]) == pytest.approx(hi, abs=1e-4)
    href = link.get_attribute("href") or ""
    assert re.search(rf"cases\?run={run}&max_gap=0\.0$", href), href
    page.goto(urljoin(page.url, href))
    page.get_by_text(re.compile(rf"cases 1-\d+ of {count}\b")).first.wait_for()
    settle(page)
    shown = [
        int(t.split()[1])
        for t in page.locator("[data-testid=stMarkdownContainer] strong").all_inner_texts()
        if t.startswith("Pair ")
    ]
    assert shown and set(shown) <= set(wrong) and len(shown) == min(10, len(wrong))

    # Open in full: the case is drawn where its card was, inside the viewport.
    page.get_by_role("button", name="Open in full").nth(2).click()
    heading = page.get_by_text(f"Pair {shown[2]} in full")
    heading.wait_for()
    settle(page)
    box = heading.bounding_box()
    assert box is not None and 0 <= box["y"] <= page.viewport_size["height"], box

    page.goto(f"{base}/policies")
    warning = page.get_by_text("Most answers were cut").first
    warning.wait_for()
    settle(page)
    win = page.get_by_text("win rate", exact=True).first
    assert warning.bounding_box()["y"] < win.bounding_box()["y"]
    # A point of the scatter opens that prompt's answers.
    scatter = page.locator("[data-testid=stVegaLiteChart]").filter(has_text="Score per prompt")
    scatter.locator("g.mark-symbol path").first.click()
    page.get_by_text(re.compile(r"^Prompt \d+: both answers$")).wait_for()
    assert page.get_by_role("link", name="Open in Cases").count() == 1
