"""Bad input to the job and output commands: one line on stderr, exit 2, no run
created and no file lost (a real SQLite store in tmp_path, tiny models)."""

from __future__ import annotations

import json

import pytest

from preflens.cli.main import main
from tests.factories import trl_rows, write_jsonl


def _runs() -> list[tuple[int, str, str]]:
    from sqlalchemy import select

    from db.schema import Run
    from db.session import make_engine
    from preflens.config import get_settings

    with make_engine(get_settings().resolved_database_url).connect() as conn:
        return [tuple(r) for r in conn.execute(select(Run.id, Run.kind, Run.status))]


@pytest.fixture
def toy(tmp_path, capsys):
    """Dataset 'toy': 4 pairs, all in the test split."""
    assert main(["ingest", str(write_jsonl(tmp_path / "toy.jsonl", trl_rows(4))),
                 "--name", "toy", "--split", "test"]) == 0  # fmt: skip
    capsys.readouterr()
    return "toy"


def _refused(capsys, argv: list[str], needle: str) -> str:
    before = _runs()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert _runs() == before  # no run created
    return err


def test_probe_with_a_bad_edits_file_creates_no_run(tmp_path, toy, tiny_lm, capsys):
    bad = tmp_path / "edits.json"
    bad.write_text(json.dumps({"edits": [
        {"name": "x", "op": "regex", "pattern": "a", "replacement": "\\9"}]}))  # fmt: skip
    _refused(capsys, ["probe", "--model", str(tiny_lm), "--dataset", toy,
                      "--edits-file", str(bad)], "invalid group reference")  # fmt: skip
