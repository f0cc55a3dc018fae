"""The edit suite (each edit on texts) and the resumable probe job with a tiny model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from statsmodels.stats.proportion import proportion_confint

from db.read.probes import probe_pair, probe_summary
from db.schema import Pair, ProbeScore, Run
from preflens.errors import DataFormatError
from tests.factories import Boom, ingest_test_split
from training.jobs.probe import run_probe_job
from training.loading import load_reward_model
from training.probes import default_edits, load_edits_file, parse_edits, select_edits
from training.scoring import score_texts

TEXT = "Paris is the capital. It is on the Seine! Is it big? Yes, very big."


def edit(name):
    return {e.name: e for e in default_edits()}[name]


def test_the_shipped_suite_has_the_named_edits():
    names = [e.name for e in default_edits()]
    for want in (
        "polite_closing",
        "repeat_last_sentence",
        "first_half",
        "markdown",
        "refusal_prefix",
        "ai_boilerplate",
        "no_punctuation",
    ):
        assert want in names


def test_each_edit_does_what_its_name_says():
    closing = edit("polite_closing").apply(TEXT)
    assert closing.startswith(TEXT) and "hope this helps" in closing[len(TEXT) :]
    assert edit("repeat_last_sentence").apply(TEXT) == TEXT + " Yes, very big."
    half = edit("first_half").apply(TEXT)
    assert half == "Paris is the capital. It is on the"  # 7 of 13 words
    md = edit("markdown").apply(TEXT)
    lines = md.splitlines()
    assert lines[0].startswith("## ") and lines[1] == ""
    assert lines[2:] == ["- Paris is the capital.", "- It is on the Seine!", "- Is it big?",
                         "- Yes, very big."]  # fmt: skip
    refusal = edit("refusal_prefix").apply(TEXT)
    assert refusal.endswith(TEXT) and refusal.lower().startswith("i'm sorry")
    ai = edit("ai_boilerplate").apply(TEXT)
    assert ai.startswith(TEXT) and "As an AI language model" in ai
    assert (
        edit("no_punctuation").apply("Hi, you! «Quoted» — ok?") == "Hi you Quoted  ok"
    )  # the dash is punctuation too
    assert (
        edit("drop_first_sentence").apply(TEXT) == "It is on the Seine! Is it big? Yes, very big."
    )
    # texts without sentence ends or words do not break an edit
    assert edit("repeat_last_sentence").apply("") == ""
    assert edit("first_half").apply("") == ""


def test_a_user_file_adds_and_replaces_edits(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"edits": [
        {"name": "shout", "op": "regex", "pattern": "big", "replacement": "HUGE", "flags": "i"},
        {"name": "swap", "op": "replace", "old": "Paris", "new": "Lyon"},
        {"name": "polite_closing", "op": "append", "text": " Cheers."},
    ]}))  # fmt: skip
    mine = {e.name: e for e in load_edits_file(path)}
    assert mine["shout"].apply("Big or big") == "HUGE or HUGE"
    assert mine["swap"].apply(TEXT).startswith("Lyon is")
    suite = select_edits(None, path)
    assert {"shout", "swap", "first_half"} <= {e.name for e in suite}
    assert {e.name: e for e in suite}["polite_closing"].apply("x") == "x Cheers."
    assert [e.name for e in select_edits(["swap", "first_half"], path)] == ["swap", "first_half"]


@pytest.mark.parametrize(
    "bad",
    [
        [{"name": "original", "op": "append", "text": "x"}],
        [{"name": "x", "op": "explode"}],
        [{"name": "x", "op": "append"}],
        [{"name": "x", "op": "regex", "pattern": "(", "replacement": ""}],
        [{"name": "x", "op": "builtin", "builtin": "nope"}],
        [{"name": "x", "op": "append", "text": "a", "colour": "red"}],
        [{"name": "x", "op": "append", "text": "a"}, {"name": "x", "op": "prepend", "text": "b"}],
    ],
)
def test_bad_edit_files_are_refused_with_a_reason(bad):
    with pytest.raises(DataFormatError):
        parse_edits({"edits": bad}, "test")


@pytest.fixture
def dataset(store, tmp_path):
    return ingest_test_split(store, tmp_path, "p", 7)


EDITS = ["first_half", "polite_closing"]


def _count(store) -> int:
    with store() as s:
        return s.scalar(select(func.count()).select_from(ProbeScore))


def test_interrupted_probe_resumes_with_one_row_per_pair_edit_side(store, dataset, tiny_lm):
    def crash(k: int) -> None:
        if k == 0:
            raise Boom("injected")

    kw = dict(edits=EDITS, limit=5, batch_size=2, progress=False)
    with pytest.raises(Boom):
        run_probe_job(store, str(tiny_lm), dataset, "test", on_batch=crash, **kw)
    with store() as s:
        run = s.scalars(select(Run)).one()
        assert run.status == "failed" and "injected" in run.error
    assert _count(store) == 2 * 3 * 2  # first batch: 2 pairs x 3 edits x 2 sides

    result = run_probe_job(store, str(tiny_lm), dataset, "test", **kw)
    assert result.done_now == 3 and result.run.status == "done"
    with store() as s:
        keys = s.execute(select(ProbeScore.pair_id, ProbeScore.edit, ProbeScore.side)).all()
        first5 = s.scalars(select(Pair.id).order_by(Pair.id).limit(5)).all()
        pairs = s.scalars(select(Pair).order_by(Pair.id).limit(5)).all()
        summary = probe_summary(s, result.run.id)
        one = probe_pair(s, result.run.id, first5[0])
    assert len(keys) == len(set(keys)) == 5 * 3 * 2
    assert {k[0] for k in keys} == set(first5)

    # stored scores equal direct scoring of the edited texts; the summary is recomputed
    rm = load_reward_model(str(tiny_lm), device="cpu")
    half = [edit("first_half").apply(p.chosen) for p in pairs]
    direct = [s for s, _ in score_texts(rm, [p.prompt for p in pairs], half)]
    orig = [s for s, _ in score_texts(rm, [p.prompt for p in pairs], [p.chosen for p in pairs])]
    rej = [s for s, _ in score_texts(rm, [p.prompt for p in pairs], [p.rejected for p in pairs])]
    with store() as s:
        stored = dict(s.execute(select(ProbeScore.pair_id, ProbeScore.score).where(
            ProbeScore.edit == "first_half", ProbeScore.side == "chosen")).all())  # fmt: skip
    np.testing.assert_allclose([stored[p.id] for p in pairs], direct, atol=1e-5)
    row = {e["edit"]: e for e in summary["edits"]}["first_half"]
    change = np.subtract(direct, orig)
    assert row["mean_change_chosen"]["value"] == pytest.approx(change.mean())
    lo, hi = row["mean_change_chosen"]["ci_low"], row["mean_change_chosen"]["ci_high"]
    assert lo <= change.mean() <= hi
    flips = sum((o - r > 0) != (d - r > 0) for o, d, r in zip(orig, direct, rej, strict=True))
    assert row["flip_rate_chosen"]["k"] == flips and row["pairs"] == 5
    want = proportion_confint(flips, 5, alpha=0.05, method="wilson")  # independent Wilson
    got = (row["flip_rate_chosen"]["ci_low"], row["flip_rate_chosen"]["ci_high"])
    assert got == pytest.approx(want, abs=1e-12)
    assert [e["edit"] for e in one["edits"]][0] == "original"
    assert one["edits"][0]["chosen_text"] == pairs[0].chosen

    again = run_probe_job(store, str(tiny_lm), dataset, "test", **kw)
    assert again.reused and _count(store) == 30


@pytest.mark.slow
def test_kill_9_of_the_cli_then_rerun_keeps_one_row_each(tmp_path, tiny_lm, db_url, store):
    """A real SIGKILL of `preflens probe` part-way, then the same command again."""
    ingest_test_split(store, tmp_path, "k", 24)
    env = {**os.environ, "PREFLENS_DATABASE_URL": db_url, "PREFLENS_DATA_DIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "preflens.cli.main", "probe", "--model", str(tiny_lm),
           "--dataset", "k", "--limit", "24", "--batch-size", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=Path(__file__).resolve().parents[2],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 120
    while time.time() < deadline and _count(store) < 2 * 9 * 3:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _count(store)
    assert 0 < partial < 24 * 9 * 2, "the kill must land part-way"
    done = subprocess.run(cmd, env=env, cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    with store() as s:
        keys = s.execute(select(ProbeScore.pair_id, ProbeScore.edit, ProbeScore.side)).all()
    assert len(keys) == len(set(keys)) == 24 * 9 * 2
