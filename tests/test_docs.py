"""The documentation site: the generated reference pages are current and complete, and
`mkdocs build --strict` passes (every page in the nav, no broken link or anchor)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from docs.gen import reference
from tests.conftest import REPO

MKDOCS_ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=REPO,
        env=MKDOCS_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    """Each generated page as it is committed and as the code would write it now."""
    found = reference.generated()
    return {str(path.relative_to(REPO)): texts for path, texts in found.items()}


def test_generated_reference_pages_are_current(pages):
    stale = [page for page, (now, wanted) in pages.items() if now != wanted]
    assert not stale, f"stale generated pages (run `make docs-ref`): {stale}"


def test_the_stale_check_sees_an_edit(tmp_path):
    """A committed page whose generated part differs from the code is reported, with a
    diff naming the changed line; hand-written prose outside the region is not."""
    for _, (relative, _) in reference.PAGES.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / relative, target)
    cli = tmp_path / "docs/reference/cli.md"
    text = cli.read_text(encoding="utf-8")
    cli.write_text(text.replace("# Command line", "# The command line"), encoding="utf-8")
    assert reference.stale(tmp_path) == {}
    cli.write_text(text.replace("| `--head-seed HEAD_SEED` | `0` |", "| `--head-seed` | `1` |"))
    diffs = reference.stale(tmp_path)
    assert list(diffs) == [cli]
    assert "+| `--head-seed HEAD_SEED` | `0` |" in diffs[cli]


def test_the_cli_page_has_every_command_and_option(pages):
    from preflens.cli.main import build_parser

    now, _ = pages["docs/reference/cli.md"]
    missing = []

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        if f"## preflens {name}\n" not in now:
            missing.append(name)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child, sub in action.choices.items():
                    walk(sub, f"{name} {child}")
            elif action.dest != "help":
                flag = action.option_strings[-1] if action.option_strings else None
                if flag and f"`{', '.join(action.option_strings)}" not in now:
                    missing.append(f"{name} {flag}")

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child, sub in action.choices.items():
                walk(sub, child)
    assert reference.command_names()  # the walk saw commands at all
    assert not missing, f"not on the CLI page: {missing}"


def test_the_settings_page_has_every_variable(pages):
    from preflens.config import Settings

    now, _ = pages["docs/reference/settings.md"]
    missing = [name for name in Settings.model_fields if f"`PREFLENS_{name.upper()}`" not in now]
    assert not missing


def test_the_http_page_has_every_route(pages):
    from fastapi.routing import APIRoute

    from backend.app import create_app
    from preflens.config import Settings

    now, _ = pages["docs/reference/http-api.md"]
    routes = []
    for route in create_app(Settings()).routes:
        # An included router is one entry of the app; its routes sit on the original.
        inner = getattr(route, "original_router", None)
        routes += inner.routes if inner is not None else [route]
    routes = [r for r in routes if isinstance(r, APIRoute)]
    assert len(routes) > 20
    missing = [
        f"{method} {route.path}"
        for route in routes
        if route.include_in_schema
        for method in route.methods
        if f"### `{method} {route.path}`" not in now
    ]
    assert not missing


def test_the_store_page_has_every_table_and_column(pages, tmp_path):
    """Checked against a migrated database (what the migrations build), not against the
    models the page is made from."""
    from sqlalchemy import create_engine
    from sqlalchemy import inspect as inspect_db

    from db.migrate import upgrade

    now, _ = pages["docs/reference/store.md"]
    sections = now.split("\n### ")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        found = inspect_db(engine)
        missing = []
        for table in found.get_table_names():
            if table == "alembic_version" or table.startswith("pair_fts"):
                continue  # bookkeeping, and SQLite's full-text index (described in prose)
            section = next((s for s in sections if s.startswith(f"`{table}`")), None)
            if section is None:
                missing.append(table)
                continue
            missing += [
                f"{table}.{c['name']}"
                for c in found.get_columns(table)
                if f"| `{c['name']}` |" not in section
            ]
    finally:
        engine.dispose()
    assert len(sections) > 10
    assert not missing, f"not on the store page: {missing}"


def test_the_site_builds_strict(tmp_path):
    done = mkdocs_build(REPO / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 0, done.stderr[-3000:]
    cli = (tmp_path / "site" / "reference" / "cli.html").read_text(encoding="utf-8")
    assert 'id="preflens-score"' in cli
    for image in ("reward-model.png", "cases.png"):
        assert (tmp_path / "site" / "images" / image).stat().st_size > 10_000


def test_an_orphan_page_or_a_broken_link_fails_the_build(tmp_path):
    """The site's validation settings make omissions errors: the same settings on a small
    site with a page left out of the nav and a link to a missing anchor fail."""
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n[there](other.md#nowhere)\n", encoding="utf-8")
    (docs / "other.md").write_text("# Other\n", encoding="utf-8")
    (docs / "orphan.md").write_text("# Orphan\n", encoding="utf-8")
    small = {
        "site_name": "t",
        "docs_dir": str(docs),
        "nav": [{"Home": "index.md"}, {"Other": "other.md"}],
        "validation": config["validation"],
    }
    path = tmp_path / "mkdocs.yml"
    path.write_text(yaml.safe_dump(small), encoding="utf-8")
    done = mkdocs_build(path, tmp_path / "site")
    assert done.returncode != 0
    assert "orphan.md" in done.stderr and "#nowhere" in done.stderr


@pytest.mark.slow
def test_make_screenshots_photographs_real_pages(tmp_path):
    """`make screenshots` on the browser test's store: one PNG per page, of the viewport's
    size, small enough for the README, and the committed images are the same pages."""
    from docs.gen import screenshots
    from tests.e2e.test_browser import need_chromium

    need_chromium()
    assert screenshots.main(["--out", str(tmp_path)]) == 0
    for name, _, _ in screenshots.SHOTS:
        png = (tmp_path / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (screenshots.VIEWPORT["width"], screenshots.VIEWPORT["height"])
        assert 20_000 < len(png) < 300_000
        assert (REPO / "docs" / "images" / name).stat().st_size < 300_000


# ---- the README: short, complete in its command table, no broken link

README = REPO / "README.md"


def readme_links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_the_readme_fits_on_two_screens_and_keeps_its_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; the docs site holds the rest"
    # `.ci/run` and the hooks run the line `make test`; the demo comes first.
    assert "make test" in lines and "make demo" in lines
    assert lines.index("make demo") < lines.index("make test")


def test_the_readme_command_table_has_every_command():
    text = README.read_text(encoding="utf-8")
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\| \[`preflens ([a-z -]+)`\]\(([^)]+)\) \|", text, re.M)
    }
    names = reference.command_names()
    assert names
    missing = [name for name in names if name not in rows]
    assert not missing, f"commands missing from the README's table: {missing}"
    for name in names:
        assert rows[name] == f"docs/reference/cli.md#preflens-{name.replace(' ', '-')}"


def test_every_readme_link_resolves():
    """Relative links name files that exist; links into a docs page name one of its
    headings (as MkDocs and GitHub make their anchors)."""
    from docs.gen.openapi_md import anchor

    broken = []
    for link in readme_links(README.read_text(encoding="utf-8")):
        if link.startswith(("http://", "https://", "#")):
            continue
        path, _, fragment = link.partition("#")
        target = REPO / path
        if not target.exists():
            broken.append(link)
            continue
        if fragment:
            headings = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), re.M)
            if fragment not in {anchor(h) for h in headings}:
                broken.append(link)
    assert not broken, f"broken links in README.md: {broken}"
