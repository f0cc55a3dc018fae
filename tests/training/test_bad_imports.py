"""The bad-row corpus of the imports (tests/data/bad_imports), every file through the
command line.

``expected.json`` gives, per file, the command, the exit code (0: rows stored, 1: no row
could be stored, 2: the file is unusable), the layout, the file rows used (``stored``),
the rows written to the store (``items``) and, per refused row, its row number and
reason. Every file is imported into dataset ``d`` (``dataset.jsonl``, split test);
``generations`` names a file imported first, whose generation run the scores are of.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.schema import Generation, GenerationScore, PairScore, Run
from preflens.cli.main import main

BAD = Path(__file__).resolve().parents[1] / "data" / "bad_imports"
MANIFEST: dict[str, dict] = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))
REFUSED = re.compile(r"^    row (\d+): (.*)$")
TABLES = {"generate": Generation, "score": PairScore, "score_generations": GenerationScore}


@pytest.fixture
def cli_store(store, db_url, monkeypatch):
    """The test's store, also the one the command line opens, holding dataset ``d``."""
    from preflens.config import get_settings

    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    assert main(["ingest", str(BAD / "dataset.jsonl"), "--name", "d", "--split", "test"]) == 0
    return store


def test_every_file_in_the_corpus_is_in_the_manifest():
    on_disk = {p.name for p in BAD.iterdir()} - {"expected.json", "dataset.jsonl"}
    used = set(MANIFEST) | {c["generations"] for c in MANIFEST.values() if "generations" in c}
    assert on_disk == used


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_bad_rows_are_reported_by_number_and_every_good_row_is_kept(cli_store, capsys, name):
    case = MANIFEST[name]
    args = [case["command"], str(BAD / name), "--dataset", "d"]
    if case["command"] == "import-scores":
        args += ["--model-name", "some-rm"]
    if "generations" in case:
        assert main(["import-generations", str(BAD / case["generations"]), "--dataset", "d"]) == 0
        with cli_store() as s:
            args += ["--generation-run", str(s.scalar(select(func.max(Run.id))))]
    capsys.readouterr()
    assert main(args) == case["exit"]
    captured = capsys.readouterr()
    if case["exit"] == 2:
        assert case["error"] in captured.err and "Traceback" not in captured.err
        return
    lines = captured.out.splitlines()
    assert f"layout {case['layout']} (detected)" in lines[0]
    refused = [[int(m.group(1)), m.group(2)] for m in map(REFUSED.match, lines) if m]
    assert refused == case["refused"]
    assert f"  rows stored:   {case['stored']}" in "\n".join(lines)
    rows_read = len(case["refused"]) + case["stored"]
    assert f"  rows read:     {rows_read}" in lines
    with cli_store() as s:
        runs = s.scalars(select(Run).where(Run.config["imported"].isnot(None))).all()
        mine = [r for r in runs if r.config.get("source", "").endswith(name)]
        if case["exit"] == 1:
            assert mine == []
            return
        (run,) = mine
        assert run.status == "done" and run.summary["imported"]["rows_refused"] == len(refused)
        table = TABLES[run.kind]
        kept = s.scalar(select(func.count()).select_from(table).where(table.run_id == run.id))
        assert kept == case["items"]
