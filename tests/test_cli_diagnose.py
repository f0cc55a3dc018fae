"""`preflens diagnose`, `export` and `report` through `main([...])` on a seeded store:
printed numbers match db.read.diagnostics / scipy, files hold the run's rows."""

from __future__ import annotations

import csv
import json
import math
import re

import pyarrow.parquet as pq
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from preflens.cli.export import comparator_score
from preflens.cli.main import main
from tests.diagnostics_seed import after_gap, seed_diagnostics


@pytest.fixture
def diag(monkeypatch, db_url, store):
    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    from preflens.config import get_settings

    get_settings.cache_clear()
    return seed_diagnostics(store)


def test_diagnose_prints_labelled_intervals(diag, capsys):
    assert main(["diagnose", str(diag.after_run), "--against", str(diag.base.score_run)]) == 0
    text = capsys.readouterr().out
    gaps = [after_gap(i) for i in range(40)]
    k = sum(g > 0 for g in gaps)
    lo, hi = proportion_confint(k, 40, method="wilson")
    assert "accuracy (share gap > 0), Wilson:" in text
    assert f"{k / 40:.3f} [{lo:.3f}, {hi:.3f}] n=40" in text
    assert "baseline: longer response wins" in text and "length-balanced accuracy" in text
    assert "ECE" in text and "temperature" in text
    assert re.search(r"McNemar exact p: \d", text)
    assert f"run {diag.after_run} against run {diag.base.score_run} on 40 shared pairs" in text


def test_diagnose_generation_run(diag, capsys):
    assert main(["diagnose", str(diag.base.gen_score_run), "--bootstrap", "1000"]) == 0
    text = capsys.readouterr().out
    d = list(diag.base.gen_gaps.values())
    w, losses = sum(x > 0 for x in d), sum(x < 0 for x in d)
    assert f"wins / ties / losses: {w} / {len(d) - w - losses} / {losses}" in text
    assert f"sign test p (exact, two-sided): {stats.binomtest(w, w + losses).pvalue:.3f}" in text
    assert "length-controlled win rate:" in text


def test_diagnose_errors(diag, capsys):
    assert main(["diagnose", "999"]) == 2
    assert "no run with id 999" in capsys.readouterr().err
    assert main(["diagnose", str(diag.base.train_run)]) == 2
    with pytest.raises(SystemExit):
        main(["diagnose", str(diag.after_run), "--bootstrap", "10"])
    assert "use 1000 to 100000" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_score_run(diag, tmp_path, fmt, capsys):
    path = tmp_path / f"rows.{fmt}"
    assert main(["export", str(diag.after_run), "--format", fmt, "-o", str(path)]) == 0
    assert "wrote 40 pairs" in capsys.readouterr().out
    if fmt == "csv":
        rows = list(csv.DictReader(path.open()))
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines()]
    else:
        rows = pq.read_table(path).to_pylist()
    assert len(rows) == 40
    first = rows[0]
    assert first["prompt"].startswith("user: Question 0")
    assert first["chosen"].startswith("A careful answer") and "rejected" in first
    assert float(first["gap"]) == pytest.approx(after_gap(0))
    assert int(first["chars_chosen"]) == 100  # stored response length, not the text's


def test_export_llm_comparator(diag, tmp_path):
    path = tmp_path / "cmp.json"
    run = str(diag.base.gen_score_run)
    assert main(["export", run, "--format", "llm-comparator", "-o", str(path)]) == 0
    doc = json.loads(path.read_text())
    assert [m["name"] for m in doc["models"]] == ["dpo", "base"]
    assert len(doc["examples"]) == len(diag.base.gen_gaps)
    for ex in doc["examples"]:
        assert {"input_text", "tags", "output_text_a", "output_text_b", "score"} <= ex.keys()
        assert {"custom_fields", "individual_rater_scores"} <= ex.keys()
        d = diag.base.gen_gaps[int(ex["custom_fields"]["pair_id"])]
        assert ex["score"] == pytest.approx(1.5 * math.tanh(d))
        assert -1.5 <= ex["score"] <= 1.5
    assert comparator_score(1e6) == pytest.approx(1.5) and comparator_score(0.0) == 0.0


def test_report_is_self_contained_and_escapes_text(diag, store, tmp_path, capsys):
    from db.schema import Pair

    with store() as s:  # model text that would run if it were rendered as HTML
        s.get(Pair, diag.base.pair_ids[0]).chosen = "<script>alert(1)</script>"
        s.commit()
    path = tmp_path / "report.html"
    args = ["report", str(diag.after_run), "--against", str(diag.base.score_run), "-o", str(path)]
    assert main(args) == 0
    html = path.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") >= 4
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert "Most confidently wrong pairs" in html and "Length control" in html
    assert "Calibration" in html and "ECE" in html
    assert main(["report", str(diag.base.gen_score_run), "-o", str(tmp_path / "g.html")]) == 0
    assert "length-controlled win rate" in (tmp_path / "g.html").read_text()


def test_report_header_carries_the_run_label_with_max_length(diag, store, tmp_path):
    from db.schema import Run

    with store() as s:  # the seeded runs keep no config: give each its own max length
        s.get(Run, diag.after_run).config = {"max_length": 192}
        s.get(Run, diag.base.score_run).config = {"max_length": 256}
        s.commit()
    path = tmp_path / "report.html"
    args = ["report", str(diag.after_run), "--against", str(diag.base.score_run), "-o", str(path)]
    assert main(args) == 0
    html = path.read_text()
    h1 = re.search(r"<h1>(.*?)</h1>", html).group(1)
    assert h1.startswith(f"PrefLens diagnostics: #{diag.after_run} score · ")
    assert "max 192 tok" in h1
    assert re.search(rf"a: #{diag.base.score_run} score · [^<]*max 256 tok", html)
    assert re.search(rf"b: #{diag.after_run} score · [^<]*max 192 tok", html)
