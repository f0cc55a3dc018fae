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
    # one error line (a model's warning, e.g. an untrained head, may come before it)
    errors = [line for line in err.splitlines() if not line.startswith("WARNING")]
    assert len(errors) == 1 and errors[0].startswith("error:") and "Traceback" not in err
    assert _runs() == before  # no run created
    return err


def test_probe_with_a_bad_edits_file_creates_no_run(tmp_path, toy, tiny_lm, capsys):
    bad = tmp_path / "edits.json"
    bad.write_text(json.dumps({"edits": [
        {"name": "x", "op": "regex", "pattern": "a", "replacement": "\\9"}]}))  # fmt: skip
    _refused(capsys, ["probe", "--model", str(tiny_lm), "--dataset", toy,
                      "--edits-file", str(bad)], "invalid group reference")  # fmt: skip


@pytest.fixture
def scored(toy, tiny_lm, capsys):
    """A finished score run of 'toy' (its id)."""
    assert main(["score", "--model", str(tiny_lm), "--dataset", toy, "--split", "test"]) == 0
    capsys.readouterr()
    return str(_runs()[-1][0])


FORMATS = ["csv", "jsonl", "parquet", "llm-comparator"]


def _unwritable(tmp_path, kind: str) -> str:
    if kind == "folder":
        return str(tmp_path)
    if kind == "empty":
        return ""
    if kind == "missing_folder":
        return str(tmp_path / "nope" / "out.file")
    if kind == "no_permission":
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        return str(locked / "out.file")
    return "/dev/full"


KINDS = ["folder", "empty", "missing_folder", "no_permission", "dev_full"]


def test_unwritable_outputs_are_one_line_errors(scored, tmp_path, capsys):
    import os

    for kind in KINDS:
        if kind == "no_permission" and os.geteuid() == 0:
            continue  # root writes anywhere
        target = _unwritable(tmp_path, kind)
        for command in ["report", *FORMATS]:
            argv = (
                ["report", scored]
                if command == "report"
                else ["export", scored, "--format", command]
            )
            assert main([*argv, "-o", target]) == 2, (kind, command)
            err = capsys.readouterr().err.strip()
            assert len(err.splitlines()) == 1 and err.startswith("error:"), (kind, command, err)


def test_a_failed_export_keeps_the_file_it_was_to_replace(scored, tmp_path, capsys):
    target = tmp_path / "precious.out"
    target.write_text("precious\n")
    for fmt in FORMATS:
        assert main(["export", scored, "--format", fmt, "--a", "base", "--b", "nope",
                     "-o", str(target)]) == 2  # fmt: skip
        assert "--a/--b" in capsys.readouterr().err
        assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert main(["export", scored, "--format", "jsonl", "-o", str(target)]) == 0
    assert target.read_text().count("\n") == 4  # a good export does replace it


def test_export_a_on_a_score_run_is_refused(scored, tmp_path, capsys):
    out = tmp_path / "x.csv"
    assert main(["export", scored, "--format", "csv", "--a", "base", "-o", str(out)]) == 2
    assert "score_generations" in capsys.readouterr().err
    assert not out.exists()


def test_csv_cells_are_neutralised_unless_raw(tmp_path, capsys):
    import csv

    from preflens.cli.export import write_csv

    texts = ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx", "plain", "a=b"]
    rows = [{"text": t, "score": -0.5} for t in texts]
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    write_csv(rows, ["text", "score"], safe)
    write_csv(rows, ["text", "score"], raw, raw=True)
    got = list(csv.DictReader(safe.open(newline="", encoding="utf-8")))
    assert [r["text"] for r in got] == ["'" + t for t in texts[:6]] + ["plain", "a=b"]
    assert {r["score"] for r in got} == {"-0.5"}  # numbers are not text cells
    back = list(csv.DictReader(raw.open(newline="", encoding="utf-8")))
    assert [r["text"] for r in back] == texts  # --csv-raw round-trips exactly


def test_a_write_that_fails_midway_leaves_the_old_file(tmp_path):
    from preflens.cli.outfiles import atomic_output

    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_output(target) as path:
        path.write_text("half of the new")
        raise RuntimeError("the rows ran out")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


BAD_OPTIONS = [
    (["score", "--batch-size", "0"], "--batch-size 0: must be at least 1"),
    (["probe", "--batch-size", "0"], "--batch-size 0: must be at least 1"),
    (["score-dpo", "--batch-size", "0"], "--batch-size 0: must be at least 1"),
    (["score-dpo", "--beta", "nan"], "--beta nan: give a finite number"),
    (["score-dpo", "--beta", "inf"], "--beta inf: give a finite number"),
    (["score-dpo", "--beta", "0"], "--beta 0.0: must be greater than 0"),
    (["score-dpo", "--beta", "-1"], "--beta -1.0: must be greater than 0"),
    (["score", "--max-length", "0"], "--max-length 0: must be at least 8"),
    (["probe", "--max-length", "0"], "--max-length 0: must be at least 8"),
    (["probe", "--limit", "-1"], "--limit -1: must be at least 1"),
    (["score", "--split", "nosuch"], "no split 'nosuch'; its splits: test (4 pairs)"),
    (["probe", "--split", "nosuch"], "no split 'nosuch'; its splits: test (4 pairs)"),
    (["score-dpo", "--split", "nosuch"], "no split 'nosuch'; its splits: test (4 pairs)"),
]


def test_bad_job_options_are_refused_before_a_run_exists(toy, tiny_lm, capsys):
    model = {"score": "--model", "probe": "--model", "score-dpo": "--policy"}
    for argv, needle in BAD_OPTIONS:
        command = argv[0]
        full = [command, model[command], str(tiny_lm), "--dataset", toy, *argv[1:]]
        if command == "score-dpo":
            full += ["--reference", "none"]
        _refused(capsys, full, needle)
    _refused(capsys, ["diagnose", "1", "--seed", "-1"], "--seed -1: must be at least 0")


def test_a_job_needing_a_test_split_names_the_splits_there_are(tmp_path, tiny_lm, capsys):
    rows = write_jsonl(tmp_path / "tr.jsonl", trl_rows(3))
    assert main(["ingest", str(rows), "--name", "trainonly", "--split", "train"]) == 0
    capsys.readouterr()
    _refused(capsys, ["probe", "--model", str(tiny_lm), "--dataset", "trainonly"],
             "has no split 'test'; its splits: train (3 pairs)")  # fmt: skip


@pytest.mark.parametrize("command", ["train-rm", "train-dpo"])
def test_training_split_options_go_through_the_selection_check(toy, tiny_lm, capsys, command):
    """--eval-split and --train-split are checked like --split: refused with the splits
    the dataset has, before a run or a checkpoint exists."""
    job = [command, "--model", str(tiny_lm), "--dataset", toy, "--max-steps", "1"]
    _refused(capsys, [*job, "--train-split", "test", "--eval-split", "nosuch"],
             "--eval-split nosuch: dataset 'toy' has no split 'nosuch'; its splits: "
             "test (4 pairs)")  # fmt: skip
    _refused(capsys, [*job, "--train-split", "nosuch"],
             "--train-split nosuch: dataset 'toy' has no split 'nosuch'")  # fmt: skip


def test_generate_bon_and_imports_refuse_a_split_the_dataset_lacks(
    toy, tiny_lm, tmp_path, capsys
):
    policy = f"p={tiny_lm}"
    needle = "dataset 'toy' has no split 'nosuch'; its splits: test (4 pairs)"
    _refused(capsys, ["generate", "--policy", policy, "--dataset", toy, "--split", "nosuch"],
             needle)  # fmt: skip
    _refused(capsys, ["bon", "--policy", policy, "--rm", str(tiny_lm), "--dataset", toy,
                      "--split", "nosuch"], needle)  # fmt: skip
    row = trl_rows(1)[0]
    answers = write_jsonl(tmp_path / "g.jsonl", [
        {"prompt": row["prompt"], "policy": "p", "response": "yes"}])  # fmt: skip
    _refused(capsys, ["import-generations", str(answers), "--dataset", toy, "--format", "jsonl",
                      "--split", "nosuch"], needle)  # fmt: skip
    scores = write_jsonl(tmp_path / "s.jsonl", [{**row, "score_chosen": 1, "score_rejected": 0}])
    _refused(capsys, ["import-scores", str(scores), "--dataset", toy, "--model-name", "m",
                      "--format", "jsonl", "--split", "nosuch"], needle)  # fmt: skip


def _set_run(run_id: str, **values) -> None:
    from sqlalchemy import update

    from db.schema import Run
    from db.session import make_engine
    from preflens.config import get_settings

    with make_engine(get_settings().resolved_database_url).begin() as conn:
        conn.execute(update(Run).where(Run.id == int(run_id)).values(**values))


def test_failed_and_running_runs_are_labelled_everywhere(scored, tmp_path, capsys, make_api):
    from db.ownership import now, owner_id

    _set_run(scored, status="failed", progress=0.42, error="CUDA out of memory\nTraceback...")
    assert main(["diagnose", scored]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"run {scored} failed at 42%: CUDA out of memory (partial, 4 rows so far of 4)"
    assert (
        main(["export", scored, "--format", "llm-comparator", "-o", str(tmp_path / "c.json")]) == 0
    )
    assert capsys.readouterr().out.startswith(f"run {scored} failed at 42%")
    meta = json.loads((tmp_path / "c.json").read_text())["metadata"]
    assert meta["status"] == "failed" and meta["partial"] is True
    assert main(["report", scored, "-o", str(tmp_path / "r.html")]) == 0
    assert f"role=alert>run {scored} failed at 42%" in (tmp_path / "r.html").read_text()
    assert capsys.readouterr().out.startswith(f"run {scored} failed at 42%")
    body = make_api().get(f"/v1/runs/{scored}/diagnostics").json()
    assert body["status"] == "failed" and body["partial"] is True
    assert body["state"]["label"].startswith(f"run {scored} failed at 42%")

    _set_run(scored, status="running", progress=0.5, owner=owner_id(), heartbeat_at=now())
    assert main(["export", scored, "--format", "csv", "-o", str(tmp_path / "x.csv")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"run {scored} is still running: partial, 4 rows so far of 4"
    assert make_api().get(f"/v1/runs/{scored}/diagnostics").json()["partial"] is True

    _set_run(scored, status="done", progress=1.0, error=None)
    assert main(["diagnose", scored]) == 0
    assert capsys.readouterr().out.startswith(f"run {scored} (score)")
    assert make_api().get(f"/v1/runs/{scored}/diagnostics").json()["partial"] is False


def test_every_export_format_carries_the_runs_state_in_a_sidecar(scored, tmp_path, capsys):
    def meta(name: str) -> dict:
        return json.loads((tmp_path / f"{name}.meta.json").read_text())

    assert main(["export", scored, "--format", "csv", "-o", str(tmp_path / "plain.csv")]) == 0
    assert not (tmp_path / "plain.csv.meta.json").exists()  # a done run: only when asked
    for fmt, name in (("csv", "a.csv"), ("jsonl", "a.jsonl"), ("parquet", "a.parquet"),
                      ("llm-comparator", "a.json")):  # fmt: skip
        argv = ["export", scored, "--format", fmt, "-o", str(tmp_path / name), "--metadata"]
        assert main(argv) == 0
        m = meta(name)
        assert (m["run"], m["kind"], m["format"], m["file"]) == (int(scored), "score", fmt, name)
        assert (m["status"], m["partial"], m["rows"], m["run_total"]) == ("done", False, 4, 4)
        assert m["csv_neutralised"] is (fmt == "csv") and "gap" in m["columns"]
    capsys.readouterr()

    _set_run(scored, status="failed", progress=0.42, error="CUDA out of memory\nTraceback...")
    assert main(["export", scored, "--format", "jsonl", "-o", str(tmp_path / "a.jsonl")]) == 0
    assert str(tmp_path / "a.jsonl.meta.json") in capsys.readouterr().out
    m = meta("a.jsonl")  # written without --metadata: the file is partial
    assert (m["status"], m["partial"], m["rows"]) == ("failed", True, 4)
    assert m["error"] == "CUDA out of memory" and m["label"].startswith(f"run {scored} failed")
    assert main(["export", scored, "--format", "csv", "-o", str(tmp_path / "p.csv")]) == 0
    assert meta("p.csv")["partial"] is True
    assert main(["export", scored, "--format", "csv", "-o", "/dev/null"]) == 0  # no sidecar
    capsys.readouterr()
    assert main(["export", scored, "--format", "csv", "-o", "/dev/null", "--metadata"]) == 2
    assert "--metadata: /dev/null is not a file" in capsys.readouterr().err

    _set_run(scored, status="done", progress=1.0, error=None)
    assert main(["export", scored, "--format", "jsonl", "-o", str(tmp_path / "a.jsonl")]) == 0
    assert (meta("a.jsonl")["status"], meta("a.jsonl")["partial"]) == ("done", False)  # current


@pytest.fixture
def make_api():
    """A TestClient of the API on the test's store (no models loaded)."""
    from fastapi.testclient import TestClient

    from backend.app import create_app
    from preflens.config import get_settings

    clients = []

    def make():
        client = TestClient(create_app(get_settings(), reward_model=None, policies={}))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def test_one_pair_run_says_its_n_is_too_small(tmp_path, tiny_lm, capsys):
    rows = trl_rows(1)
    path = write_jsonl(tmp_path / "one.jsonl", rows)
    assert main(["ingest", str(path), "--name", "one", "--split", "test"]) == 0
    assert main(["score", "--model", str(tiny_lm), "--dataset", "one", "--split", "test"]) == 0
    capsys.readouterr()
    run = str(_runs()[-1][0])
    assert main(["diagnose", run]) == 0
    text = capsys.readouterr().out
    gap_line = next(line for line in text.splitlines() if "mean gap" in line)
    assert "(n too small for an interval)" in gap_line, gap_line
    assert main(["report", run, "-o", str(tmp_path / "r.html")]) == 0
    assert "n too small for an interval" in (tmp_path / "r.html").read_text()


def test_an_unbroken_preview_does_not_widen_the_report(tmp_path):
    from pathlib import Path

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no chromium")
    from playwright.sync_api import sync_playwright

    word = "x" * 200
    case = {"pair_id": 1, "gap": -1.0, "p_chosen": 0.27, "category": word,
            "prompt": word, "chosen": word, "rejected": word}  # fmt: skip
    html = tmp_path / "r.html"
    from preflens.cli import report

    body = "".join(report._wrong_section([case]))  # the report's table, with its CSS
    html.write_text(f"<style>{report.CSS}</style><body>{body}</body>", encoding="utf-8")
    args = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(html.as_uri())
        width = page.evaluate("document.documentElement.scrollWidth")
        browser.close()
    assert width <= 1280
