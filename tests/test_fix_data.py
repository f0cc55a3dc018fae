"""Fix the data: suspicion ranking (checked against an independent fit and sum), flags
(CLI write path), export-dataset dropping or flipping flagged pairs and ingest reading
the cleaned file back, and slices of a run in the store."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import expit

from db.schema import Dataset, DpoScore, Pair, PairScore, Run
from preflens.cli.main import main


def _pair(s, ds_id: int, i: int, category: str | None = None) -> Pair:
    pair = Pair(
        dataset_id=ds_id,
        split="test" if i % 2 else "train",
        source_row=i + 1,
        prompt=[{"role": "user", "content": f"question {i}"}],
        prompt_text=f"user: question {i}",
        chosen=f"good answer {i}",
        rejected=f"bad answer {i}",
        category=category or ("math" if i % 3 else "chat"),
        content_hash=hashlib.sha256(f"p{i}".encode()).hexdigest(),
    )
    s.add(pair)
    s.flush()
    return pair


def _score_run(s, ds_id: int, key: str, pairs, gaps) -> int:
    run = Run(kind="score", key=key, status="done", dataset_id=ds_id, config={})
    s.add(run)
    s.flush()
    for pair, g in zip(pairs, gaps, strict=True):
        s.add(
            PairScore(
                run_id=run.id,
                pair_id=pair.id,
                category=pair.category,
                split=pair.split,
                score_chosen=g,
                score_rejected=0.0,
                gap=g,
                chars_chosen=len(pair.chosen),
                chars_rejected=len(pair.rejected) + (150 if pair.id % 4 == 0 else 0),
            )
        )
    return run.id


def _dpo_run(s, ds_id: int, pairs, gaps) -> int:
    run = Run(kind="score_dpo", key="dpo", status="done", dataset_id=ds_id, config={"beta": 0.1})
    s.add(run)
    s.flush()
    for pair, g in zip(pairs, gaps, strict=True):
        s.add(
            DpoScore(
                run_id=run.id,
                pair_id=pair.id,
                category=pair.category,
                logp_policy_chosen=-1.0,
                logp_policy_rejected=-1.0,
                tokens_chosen=3,
                tokens_rejected=3,
                reward_chosen=g,
                reward_rejected=0.0,
                gap=g,
            )
        )
    return run.id


@pytest.fixture
def seeded():
    """A dataset of 30 pairs; two score runs on all of them, a third on the first 10 only
    and a score_dpo run on the last 20 (default store of the CLI)."""
    from db.migrate import open_store

    make = open_store()
    rng = np.random.default_rng(0)
    with make() as s:
        ds = Dataset(name="toy", source="toy.jsonl", format="trl", options={})
        s.add(ds)
        s.flush()
        pairs = [_pair(s, ds.id, i) for i in range(30)]
        gaps = {
            "a": rng.normal(1.0, 2.0, 30),
            "b": rng.normal(0.5, 1.0, 30),
            "c": rng.normal(2.0, 3.0, 10),
            "dpo": rng.normal(0.2, 0.5, 20),
        }
        runs = {
            "a": _score_run(s, ds.id, "a", pairs, gaps["a"]),
            "b": _score_run(s, ds.id, "b", pairs, gaps["b"]),
            "c": _score_run(s, ds.id, "c", pairs[:10], gaps["c"]),
            "dpo": _dpo_run(s, ds.id, pairs[10:], gaps["dpo"]),
        }
        s.commit()
        ids = [p.id for p in pairs]
    return make, ids, runs, gaps


def _fit_t(gap: np.ndarray) -> float:
    """Temperature by a generic bounded minimiser of the Bradley-Terry NLL over log T."""
    res = minimize_scalar(
        lambda lt: np.logaddexp(0.0, -gap / np.exp(lt)).mean(),
        bounds=(np.log(1e-3), np.log(1e4)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(np.exp(res.x))


def test_suspicion_is_the_mean_calibrated_probability_over_signals(seeded):
    from db.read.suspects import rank_pairs

    make, ids, runs, gaps = seeded
    per_pair: dict[int, list[float]] = {p: [] for p in ids}
    for name in ("a", "b", "c"):
        t = _fit_t(gaps[name])
        for p, g in zip(ids, gaps[name], strict=False):
            per_pair[p].append(float(expit(-g / t)))
    for p, g in zip(ids[10:], gaps["dpo"], strict=True):
        per_pair[p].append(float(expit(-g)))
    with make() as s:
        ranked = rank_pairs(s, "toy")
    got = dict(zip(ranked["pair_id"].tolist(), ranked["suspicion"].tolist(), strict=True))
    sig = dict(zip(ranked["pair_id"].tolist(), ranked["signals"].tolist(), strict=True))
    for p, qs in per_pair.items():
        assert got[p] == pytest.approx(np.mean(qs), abs=1e-6)
        assert sig[p] == len(qs)
    assert np.all(np.diff(ranked["suspicion"]) <= 0)  # highest first
    assert [r["run"] for r in ranked["runs"]] == sorted(runs.values())


def test_ties_go_to_more_signals_then_lower_pair_id():
    from db.migrate import open_store
    from db.read.suspects import rank_pairs

    make = open_store()
    with make() as s:
        ds = Dataset(name="ties", source="x", format="trl", options={})
        s.add(ds)
        s.flush()
        pairs = [_pair(s, ds.id, i, "c") for i in range(4)]
        # Gap 0 gives 0.5 whatever the temperature: pairs 0, 1 scored by one run, pair 3
        # by both; pair 2 is the only clear one.
        _score_run(s, ds.id, "r1", pairs, [0.0, 0.0, 5.0, 0.0])
        _score_run(s, ds.id, "r2", pairs[2:], [5.0, 0.0])
        s.commit()
        ids = [p.id for p in pairs]
    with make() as s:
        ranked = rank_pairs(s, "ties")
    assert ranked["pair_id"].tolist() == [ids[3], ids[0], ids[1], ids[2]]


def test_suspects_cli_table_json_and_refusals(seeded, capsys):
    make, ids, runs, _ = seeded
    assert main(["suspects", "toy", "--limit", "5", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert len(d["suspects"]) == 5 and d["total"] == 30
    assert [r["rank"] for r in d["suspects"]] == [1, 2, 3, 4, 5]
    assert main(["suspects", "toy", "--runs", f"{runs['a']}", "--min-signals", "1"]) == 0
    text = capsys.readouterr().out
    assert "likely mislabelled pairs of dataset 'toy'" in text and "T=" in text
    assert main(["suspects", "toy", "--runs", "999"]) == 2
    assert "no run with id 999" in capsys.readouterr().err
    assert main(["suspects", "nope"]) == 2
    assert "no dataset named 'nope'" in capsys.readouterr().err


def test_flags_set_replace_list_clear_and_refuse(seeded, capsys):
    make, ids, _, _ = seeded
    assert main(["flags", "--set", str(ids[0]), "mislabelled", "--note", "swapped"]) == 0
    assert main(["flags", "--set", str(ids[1]), "ok"]) == 0
    assert main(["flags", "--set", str(ids[1]), "ambiguous"]) == 0  # replaces
    capsys.readouterr()
    assert main(["flags", "--json"]) == 0
    flags = {f["pair_id"]: f for f in json.loads(capsys.readouterr().out)}
    assert flags[ids[0]]["label"] == "mislabelled" and flags[ids[0]]["note"] == "swapped"
    assert flags[ids[1]]["label"] == "ambiguous" and flags[ids[1]]["set_by"] == "cli"
    assert main(["flags", "--label", "mislabelled"]) == 0
    out = capsys.readouterr().out
    assert "mislabelled" in out and "ambiguous" not in out.splitlines()[1]
    assert main(["flags", "--set", str(ids[0]), "wrong-label"]) == 2
    assert "unknown flag wrong-label" in capsys.readouterr().err
    assert main(["flags", "--set", "99999", "ok"]) == 2
    assert "no pair with id 99999" in capsys.readouterr().err
    assert main(["flags", "--clear", str(ids[1])]) == 0
    capsys.readouterr()
    assert main(["flags", "--json"]) == 0
    assert [f["pair_id"] for f in json.loads(capsys.readouterr().out)] == [ids[0]]
    # The suspects list shows the flag.
    assert main(["suspects", "toy", "--limit", "500", "--json"]) == 0
    rows = {r["pair_id"]: r for r in json.loads(capsys.readouterr().out)["suspects"]}
    assert rows[ids[0]]["flag"] == "mislabelled" and rows[ids[1]]["flag"] is None


def test_export_drops_or_flips_flagged_pairs_and_ingest_reads_it_back(seeded, tmp_path, capsys):
    make, ids, _, _ = seeded
    main(["flags", "--set", str(ids[0]), "mislabelled"])
    main(["flags", "--set", str(ids[1]), "ambiguous"])
    main(["flags", "--set", str(ids[2]), "ok"])
    capsys.readouterr()
    dropped = tmp_path / "dropped.jsonl"
    assert (
        main(
            ["export-dataset", "toy", "--format", "jsonl", "-o", str(dropped)]
            + ["--drop-flagged", "mislabelled,ambiguous"]
        )
        == 0
    )
    assert "left out 2 pairs flagged mislabelled, ambiguous" in capsys.readouterr().out
    rows = [json.loads(x) for x in dropped.read_text().splitlines()]
    assert len(rows) == 28
    assert not {"question 0", "question 1"} & {r["prompt"][0]["content"] for r in rows}

    flipped = tmp_path / "flipped.jsonl"
    args = ["export-dataset", "toy", "--format", "jsonl", "-o", str(flipped)]
    assert main([*args, "--flip-flagged", "mislabelled"]) == 0
    assert "flipped 1 pairs" in capsys.readouterr().out
    rows = {r["prompt"][0]["content"]: r for r in map(json.loads, flipped.read_text().splitlines())}
    assert len(rows) == 30
    assert rows["question 0"]["chosen"][0]["content"] == "bad answer 0"
    assert rows["question 0"]["rejected"][0]["content"] == "good answer 0"
    assert rows["question 1"]["chosen"][0]["content"] == "good answer 1"

    assert main(["ingest", str(flipped), "--name", "toy-clean"]) == 0
    from db.lookup import dataset_record

    with make() as s:
        clean = dataset_record(s, "toy-clean")
        got = {p.prompt_text: p for p in s.query(Pair).filter(Pair.dataset_id == clean.id)}
    assert len(got) == 30
    zero = next(p for t, p in got.items() if "question 0" in t)
    assert (zero.chosen, zero.rejected) == ("bad answer 0", "good answer 0")

    assert main([*args, "--overwrite", "--drop-flagged", "ok", "--flip-flagged", "ok"]) == 2
    assert "both dropped and flipped" in capsys.readouterr().err
    assert main([*args, "--overwrite", "--drop-flagged", "typo"]) == 2


def test_slices_of_a_run_and_of_two_runs(seeded, capsys):
    from db.read.slices import run_slices

    make, ids, runs, gaps = seeded
    with make() as s:
        one = run_slices(s, runs["a"])
        two = run_slices(s, runs["b"], against=runs["a"])
    assert set(one["groupings"]) == {"category", "split", "length_difference"}
    by = {(r["by"], r["slice"]): r for r in one["slices"]}
    math = [i for i in range(30) if i % 3]
    k = int((gaps["a"][math] > 0).sum())
    assert by[("category", "math")]["accuracy"]["value"] == pytest.approx(k / len(math))
    assert by[("category", "math")]["n"] == len(math)
    assert one["tests"] == len(one["slices"])
    assert two["run_a"] == runs["a"] and two["n"] == 30
    assert main(["diagnose", str(runs["a"]), "--slices"]) == 0
    out = capsys.readouterr().out
    assert "Holm" in out and "length_difference" in out and "math" in out
    assert main(["diagnose", str(runs["b"]), "--slices", "--against", str(runs["a"])]) == 0
    assert "shared pairs" in capsys.readouterr().out
    assert main(["diagnose", str(runs["c"]), "--slices", "--against", str(runs["a"])]) == 0


def test_finishing_a_score_dpo_run_stores_its_gaps_and_the_ranking_is_unchanged(seeded):
    from db.read.columns import DPO_PREFIX, dpo_columns
    from db.read.suspects import rank_pairs
    from db.runs import finish_run
    from db.schema import RunValues

    make, ids, runs, gaps = seeded
    with make() as s:
        before = rank_pairs(s, "toy")
        finish_run(s, runs["dpo"])
        s.commit()
    with make() as s:
        stored = s.query(RunValues).filter(RunValues.series.like(DPO_PREFIX + "%")).count()
        m = dpo_columns(s, runs["dpo"])
        after = rank_pairs(s, "toy")
    assert stored == 2
    assert m[:, 0].tolist() == ids[10:] and np.allclose(m[:, 1], gaps["dpo"])
    assert after["pair_id"].tolist() == before["pair_id"].tolist()
    assert np.allclose(after["suspicion"], before["suspicion"])


def test_a_run_no_better_than_chance_is_left_out_and_named(seeded, capsys):
    """A score run that ranks pairs backwards fits T at its upper bound: it is no signal
    (sigmoid(-gap/1e4) is 0.5 everywhere), so it is listed as skipped with the reason and
    the ranking equals the one without it; with it alone, suspects refuses and says why."""
    from db.read.suspects import rank_pairs, suspects
    from preflens.errors import QueryError

    make, ids, runs, gaps = seeded
    with make() as s:
        ds_id = s.get(Run, runs["a"]).dataset_id
        pairs = [s.get(Pair, p) for p in ids]
        backwards = _score_run(s, ds_id, "backwards", pairs, -np.abs(gaps["a"]) - 0.1)
        s.commit()
    with make() as s:
        ranked = rank_pairs(s, "toy")
        without = rank_pairs(s, "toy", [runs["a"], runs["b"], runs["c"], runs["dpo"]])
        assert [r["run"] for r in ranked["skipped"]] == [backwards]
        assert "ranks pairs backwards" in ranked["skipped"][0]["reason"]
        assert backwards not in [r["run"] for r in ranked["runs"]]
        assert ranked["pair_id"].tolist() == without["pair_id"].tolist()
        np.testing.assert_allclose(ranked["suspicion"], without["suspicion"])
        with pytest.raises(QueryError, match="temperature fit failed"):
            suspects(s, "toy", [backwards])
    assert main(["suspects", "toy", "--limit", "3"]) == 0
    assert f"left out: run {backwards}" in capsys.readouterr().out
