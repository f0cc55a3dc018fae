"""Screenshots of the dashboard for the README and the docs site (``make screenshots``).

Builds the browser test's store (``tests.dashboard.seed``) in a temporary folder, starts
the real dashboard on a free loopback port, and has Debian's chromium (driven by the
``playwright`` package; never ``playwright install``) photograph the Reward model page
and the Cases page into ``docs/images/``. Rerun it after changing a page, so the images
never show an old one.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.dashboard.conftest import free_port
from tests.dashboard.seed import seed_dashboard_store
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, settle

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "docs" / "images"
VIEWPORT = {"width": 1280, "height": 960}
# (file, path under the dashboard, text that says the page has drawn)
SHOTS = (
    ("reward-model.png", "reward-model", "Accuracy per category"),
    ("cases.png", "cases?run={run}&sort=abs_gap", "Pair "),
)


def seeded_store(folder: Path) -> tuple[str, int]:
    """A migrated SQLite store in ``folder`` with the browser test's rows; returns its URL
    and the id of the score run the Cases view opens."""
    from db.migrate import upgrade
    from db.session import get_sessionmaker

    url = f"sqlite:///{folder / 'store.db'}"
    upgrade(url)
    seeded = seed_dashboard_store(get_sessionmaker(url))
    return url, seeded.base.score_run


def wait_healthy(url: str, proc, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the dashboard exited with status {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the dashboard did not answer {url} within {timeout:.0f} s")


def take(base_url: str, run: int, out: Path) -> list[Path]:
    """One viewport-sized PNG per entry of ``SHOTS``, written under ``out``."""
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            for name, path, text in SHOTS:
                page.goto(f"{base_url}/{path.format(run=run)}")
                page.get_by_text(text).first.wait_for()
                settle(page)
                target = out / name
                page.screenshot(path=str(target))
                written.append(target)
                size = target.stat().st_size // 1024
                log.info("wrote %s (%d KB)", target, size)
        finally:
            browser.close()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder for the PNG files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)  # the libraries' INFO lines (migrations, requests) say nothing here
    if not CHROMIUM.exists():
        log.error("%s is missing: apt-get install chromium", CHROMIUM)
        return 2
    from dashboard.launch import start_dashboard

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        url, run = seeded_store(Path(folder))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFLENS_")}
        env["PREFLENS_DATABASE_URL"] = url
        port = free_port()
        # Live scoring is not photographed: the backend URL points where nothing listens.
        api_url = f"http://127.0.0.1:{free_port()}"
        with open(Path(folder) / "dashboard.log", "w") as logfile:
            proc = start_dashboard(
                "127.0.0.1", port, api_url, env=env, cwd=REPO, stdout=logfile, stderr=logfile
            )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(f"{base}/_stcore/health", proc)
            take(base, run, args.out)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
