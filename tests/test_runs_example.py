"""The documented `preflens runs` output has the columns the command prints today: every
example (README.md, docs/**/*.md) that shows the table's header shows the header
``print_runs`` writes."""

from __future__ import annotations

from types import SimpleNamespace

from preflens.cli.output import print_runs
from tests.conftest import REPO


def test_every_runs_example_has_the_printed_header(capsys):
    run = SimpleNamespace(id=1, kind="score", status="done", progress=1.0, dataset=None,
                          split="test", checkpoint=None, config={"model": "m"}, summary={},
                          error=None)  # fmt: skip
    print_runs([run])
    header = capsys.readouterr().out.splitlines()[0].rstrip()
    examples = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]:
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines[:-1]):
            if line.startswith("$ preflens runs") and lines[i + 1].lstrip().startswith("id  "):
                examples.append((path.name, i + 2, lines[i + 1].rstrip()))
    assert examples, "no `preflens runs` example with its header in the docs"
    stale = [(name, n) for name, n, shown in examples if shown != header]
    assert not stale, f"headers differ from {header!r} at {stale}"
