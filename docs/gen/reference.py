"""The generated parts of the reference pages, written from the code they describe.

- ``docs/reference/cli.md``: every command and option, from the ``preflens`` argparse
  parser (whose job options come from the config dataclasses' field help);
- ``docs/reference/settings.md``: every ``PREFLENS_*`` variable, from the pydantic
  ``Settings`` model;
- ``docs/reference/http-api.md``: every endpoint and schema, from the service's OpenAPI
  schema (the app is built, no model is loaded);
- ``docs/reference/store.md``: every table, column and index, from ``db/schema.py``.

A page is hand-written prose around one generated region between two marker comments;
only the region is rewritten. ``python -m docs.gen.reference`` rewrites the regions,
``--check`` writes nothing and fails (exit 1, with a diff) when a page is stale. Defaults
are read with every ``PREFLENS_*`` variable unset, so the pages never show one machine's
environment.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from docs.gen.openapi_md import cell, openapi_markdown
from docs.gen.schema_md import schema_markdown

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
BEGIN = "<!-- BEGIN GENERATED {name}: `make docs-ref` writes this part; do not edit it -->"
END = "<!-- END GENERATED {name} -->"
USAGE_COLUMNS = "88"  # argparse wraps usage lines to the terminal; the page must not vary


@contextlib.contextmanager
def default_environment() -> Iterator[None]:
    """No ``PREFLENS_*`` variable and a fixed width while the pages are built."""
    from preflens.config import get_settings

    saved = {k: v for k, v in os.environ.items() if k.startswith("PREFLENS_") or k == "COLUMNS"}
    for key in saved:
        del os.environ[key]
    os.environ["COLUMNS"] = USAGE_COLUMNS
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ.pop("COLUMNS", None)
        os.environ.update(saved)
        get_settings.cache_clear()


# ---- command line


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_names(parser: argparse.ArgumentParser | None = None) -> list[str]:
    """Every ``preflens`` command, with its subcommands (``model pull``), in help order."""
    if parser is None:
        from preflens.cli.main import build_parser

        parser = build_parser()
    names = []
    for name, sub in _subcommands(parser).items():
        nested = _subcommands(sub)
        names += [f"{name} {child}" for child in nested] if nested else [name]
    return names


def _option(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest.upper()}`"
    flags = ", ".join(action.option_strings)
    if action.nargs == 0:
        return f"`{flags}`"
    metavar = action.metavar or action.dest.upper()
    return f"`{flags} {metavar}`"


def _default(action: argparse.Action) -> str:
    if action.required:
        return "required"
    if action.nargs == 0:
        return "off"  # a flag is off unless given, whatever it switches
    if action.default is None or action.default is argparse.SUPPRESS:
        return ""
    return f"`{action.default}`"


def _meaning(action: argparse.Action, prog: str) -> str:
    text = re.sub(r"\s*\(default: %\(default\)s\)", "", action.help or "")
    params = {**vars(action), "prog": prog}
    text = text % params if "%(" in text else text
    if action.choices and not isinstance(action, argparse._SubParsersAction):
        text += " (one of: " + ", ".join(f"`{c}`" for c in action.choices) + ")"
    return cell(text)


def _command_lines(name: str, parser: argparse.ArgumentParser, level: str) -> list[str]:
    lines = [f"{level} preflens {name}", ""]
    if parser.description:
        lines += [" ".join(parser.description.split()), ""]
    lines += ["```text", parser.format_usage().strip(), "```", ""]
    actions = [a for a in parser._actions if a.help is not argparse.SUPPRESS and a.dest != "help"]
    actions = [a for a in actions if not isinstance(a, argparse._SubParsersAction)]
    if actions:
        lines += ["| option | default | meaning |", "|---|---|---|"]
        lines += [f"| {_option(a)} | {_default(a)} | {_meaning(a, parser.prog)} |" for a in actions]
        lines.append("")
    for child, sub in _subcommands(parser).items():
        lines += _command_lines(f"{name} {child}", sub, level + "#")
    return lines


def cli_markdown() -> str:
    """A section per command (``## preflens score``): description, usage, options."""
    from preflens.cli.main import build_parser

    parser = build_parser()
    lines = ["```text", parser.format_usage().strip(), "```", ""]
    lines += ["| option | meaning |", "|---|---|"]
    lines += [
        f"| {_option(a)} | {_meaning(a, parser.prog)} |"
        for a in parser._actions
        if a.option_strings and a.dest != "help"
    ]
    lines += ["", "| command | what it does |", "|---|---|"]
    for name, sub in _subcommands(parser).items():
        lines.append(f"| [`{name}`](#preflens-{name}) | {cell(sub.description or '')} |")
    lines.append("")
    for name, sub in _subcommands(parser).items():
        lines += _command_lines(name, sub, "##")
    return "\n".join(lines).rstrip() + "\n"


# ---- settings


def _setting_default(field: Any) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None or value == [] or value == {}:
        return "unset"
    return f"`{value}`"


def settings_markdown() -> str:
    """One row per ``PREFLENS_*`` variable: default, what it accepts, what it does."""
    from preflens.config import Settings, expected

    prefix = Settings.model_config.get("env_prefix", "")
    lines = ["| variable | default | accepts | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        lines.append(
            f"| `{prefix}{name.upper()}` | {_setting_default(field)} | {cell(expected(name))} "
            f"| {cell(field.description or '')} |"
        )
    return "\n".join(lines) + "\n"


# ---- HTTP API


def http_markdown() -> str:
    """Endpoints and schemas from ``create_app().openapi()`` (no model is loaded: the
    lifespan, which loads them, never runs)."""
    from backend.app import create_app
    from preflens.config import Settings

    return openapi_markdown(create_app(Settings()).openapi())


PAGES: dict[str, tuple[str, Callable[[], str]]] = {
    "cli": ("docs/reference/cli.md", cli_markdown),
    "settings": ("docs/reference/settings.md", settings_markdown),
    "http-api": ("docs/reference/http-api.md", http_markdown),
    "store": ("docs/reference/store.md", schema_markdown),
}


def fill(text: str, name: str, body: str) -> str:
    """``text`` with the region ``name`` replaced by ``body``."""
    begin, end = BEGIN.format(name=name), END.format(name=name)
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"the page has no region {name!r}: add the lines\n{begin}\n{end}")
    return text[: start + len(begin)] + "\n\n" + body.strip() + "\n\n" + text[stop:]


def generated(root: Path = REPO) -> dict[Path, tuple[str, str]]:
    """{page: (text now, text as it should be)} for every generated page."""
    pages = {}
    with default_environment():
        for name, (relative, build) in PAGES.items():
            path = root / relative
            now = path.read_text(encoding="utf-8")
            pages[path] = (now, fill(now, name, build()))
    return pages


def stale(root: Path = REPO) -> dict[Path, str]:
    """{page: unified diff} of every page whose generated part is out of date."""
    diffs = {}
    for path, (now, wanted) in generated(root).items():
        if now != wanted:
            rel = str(path.relative_to(root))
            diff = difflib.unified_diff(
                now.splitlines(keepends=True),
                wanted.splitlines(keepends=True),
                f"{rel} (committed)",
                f"{rel} (generated)",
            )
            diffs[path] = "".join(diff)
    return diffs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a page is stale"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.check:
        diffs = stale()
        for diff in diffs.values():
            sys.stdout.write(diff)
        for path in diffs:
            log.error("stale: %s (run `make docs-ref`)", path.relative_to(REPO))
        return 1 if diffs else 0
    for path, (now, wanted) in generated().items():
        if now != wanted:
            path.write_text(wanted, encoding="utf-8")
            log.info("wrote %s", path.relative_to(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
