"""`preflens export` and `preflens report` of a checkpoint series and a best-of-N run on a
seeded store: the files hold exactly the numbers of db.read.series / db.read.bon."""

from __future__ import annotations

import csv
import json
import math

import pytest

from preflens.cli.main import main
from tests.over_seed import STEPS, seed_bon, seed_series


@pytest.fixture
def over(monkeypatch, db_url, store):
    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    from preflens.config import get_settings

    get_settings.cache_clear()
    train_id, score_ids = seed_series(store)
    bon_id, _, _ = seed_bon(store)
    return store, train_id, score_ids, bon_id


def _num(text: str) -> float | None:
    return None if text == "" else float(text)


def test_export_series_rows_equal_the_read_function(over, tmp_path, capsys):
    from db.read.series import series

    store, train_id, score_ids, _ = over
    with store() as s:
        want = series(s, train_id)
    out = tmp_path / "series.csv"
    assert main(["export", str(train_id), "--format", "csv", "-o", str(out)]) == 0
    assert f"wrote {len(STEPS)} steps" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [int(r["step"]) for r in rows] == list(STEPS)
    assert [int(r["score_run"]) for r in rows] == score_ids
    for r, p in zip(rows, want["points"], strict=True):
        for name in ("accuracy", "auc", "gap_mean"):
            for key, col in (
                ("value", name),
                ("ci_low", f"{name}_ci_low"),
                ("ci_high", f"{name}_ci_high"),
            ):
                assert math.isclose(float(r[col]), p[name][key], rel_tol=1e-12)
        assert math.isclose(float(r["ece"]), p["ece"], rel_tol=1e-12)
        vs = p["vs_previous"]
        if vs is None:
            assert r["learned"] == r["forgotten"] == ""
        else:
            assert (int(r["learned"]), int(r["forgotten"])) == (vs["learned"], vs["forgotten"])
            assert math.isclose(float(r["mcnemar_p"]), vs["mcnemar_p"], rel_tol=1e-12)
        assert (r["best"] == "True") == (p["step"] == want["best"]["step"])
    # learned/forgotten recounted from the score runs' stored gaps (a tie is wrong)
    from sqlalchemy import select

    from db.schema import PairScore

    with store() as s:
        right = [
            {
                p: g > 0
                for p, g in s.execute(
                    select(PairScore.pair_id, PairScore.gap).where(PairScore.run_id == rid)
                )
            }
            for rid in score_ids
        ]
    for i in range(1, len(score_ids)):
        learned = sum(not right[i - 1][p] and right[i][p] for p in right[i])
        forgotten = sum(right[i - 1][p] and not right[i][p] for p in right[i])
        assert (int(rows[i]["learned"]), int(rows[i]["forgotten"])) == (learned, forgotten)

    # the JSON twin holds the same rows
    js = tmp_path / "series.jsonl"
    assert main(["export", str(train_id), "--format", "jsonl", "-o", str(js)]) == 0
    lines = [json.loads(x) for x in js.read_text(encoding="utf-8").splitlines()]
    assert [x["accuracy"] for x in lines] == [p["accuracy"]["value"] for p in want["points"]]


def test_export_bon_rows_equal_the_read_function(over, tmp_path, capsys):
    from db.read.bon import bon_summary

    store, _, _, bon_id = over
    with store() as s:
        want = bon_summary(s, bon_id)
    out = tmp_path / "bon.jsonl"
    assert main(["export", str(bon_id), "--format", "jsonl", "-o", str(out), "--metadata"]) == 0
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["k"] for r in rows] == want["ks"]
    for j, r in enumerate(rows):
        assert r["kl_nats"] == want["kl"][j]
        for name in ("proxy", "gold", "length"):
            iv = want["curves"][name][j]
            assert (r[name], r[f"{name}_ci_low"], r[f"{name}_ci_high"]) == (
                iv["value"],
                iv["ci_low"],
                iv["ci_high"],
            )
    meta = json.loads((tmp_path / "bon.jsonl.meta.json").read_text(encoding="utf-8"))
    assert meta["kind"] == "bon" and meta["rows_are"] == "k values" and meta["partial"]

    csv_out = tmp_path / "bon.csv"
    assert main(["export", str(bon_id), "--format", "csv", "-o", str(csv_out)]) == 0
    crow = list(csv.DictReader(csv_out.open(encoding="utf-8")))
    assert [_num(r["proxy"]) for r in crow] == [iv["value"] for iv in want["curves"]["proxy"]]


def test_export_series_refuses_llm_comparator(over, tmp_path, capsys):
    _, train_id, _, _ = over
    out = tmp_path / "x.json"
    assert main(["export", str(train_id), "--format", "llm-comparator", "-o", str(out)]) == 2
    assert "csv, jsonl or parquet" in capsys.readouterr().err
    assert not out.exists()


def test_report_of_series_and_bon_has_their_tables(over, tmp_path, capsys):
    from db.read.bon import bon_summary
    from db.read.series import series

    store, train_id, _, bon_id = over
    with store() as s:
        want_s = series(s, train_id)
        want_b = bon_summary(s, bon_id)
    sr = tmp_path / "series.html"
    assert main(["report", str(train_id), "-o", str(sr)]) == 0
    html = sr.read_text(encoding="utf-8")
    assert f"Checkpoint series of run {train_id}" in html
    for p in want_s["points"]:
        assert f"<td class=num>{p['accuracy']['value']:.3f}</td>" in html
        assert f"<td class=num>{p['accuracy']['ci_low']:.3f}</td>" in html
    assert "<script" not in html

    br = tmp_path / "bon.html"
    assert main(["report", str(bon_id), "-o", str(br)]) == 0
    html = br.read_text(encoding="utf-8")
    assert f"Best-of-N run {bon_id}" in html
    for j, k in enumerate(want_b["ks"]):
        row = f"<tr><td class=num>{k}</td><td class=num>{want_b['kl'][j]:.3f}</td>"
        assert row in html
        assert f"<td class=num>{want_b['curves']['gold'][j]['value']:.3f}</td>" in html
    # the proxy and gold columns carry the dashboard's colours for those curves
    from dashboard.over_charts import bon_frame
    from dashboard.palette import series_colors

    # the same colour the Best-of-N chart gives each curve
    colours = series_colors(bon_frame(want_b, ("proxy", "gold"))["curve"])
    assert f'<th style="color:{colours["gold"]}">gold</th>' in html
    assert f'<th style="color:{colours["proxy"]}">proxy</th>' in html


def test_export_series_as_parquet_keeps_empty_first_changes(over, tmp_path):
    import pyarrow.parquet as pq

    from db.read.series import series

    store, train_id, _, _ = over
    with store() as s:
        want = series(s, train_id)
    out = tmp_path / "series.parquet"
    assert main(["export", str(train_id), "--format", "parquet", "-o", str(out)]) == 0
    t = pq.read_table(out).to_pydict()
    assert t["learned"] == [None] + [p["vs_previous"]["learned"] for p in want["points"][1:]]
    assert t["auc_ci_high"] == [p["auc"]["ci_high"] for p in want["points"]]
