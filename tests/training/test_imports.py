"""Round trips of every import layout: a PrefLens run written out in the other tool's
layout (by the writers below, from that tool's documented fields), imported, gives the
same rows and the same numbers; and the imported runs work wherever PrefLens's own do
(score-generations, the Policies page's reads, diagnostics, paired comparisons,
label-noise candidates, export, report)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import read
from db.read.diagnostics import generation_diagnostics, run_diagnostics
from db.read.export import export_rows
from db.read.paired import label_noise_candidates, paired
from db.schema import Generation, GenerationScore, PairScore, Run
from preflens.cli.main import main
from tests.factories import make_tiny_lm_dir, trl_rows, write_jsonl
from training.imports.generations import import_generations
from training.imports.scores import import_scores
from training.jobs.generate import run_generate_job
from training.jobs.ingest import ingest
from training.jobs.score import run_score_job
from training.jobs.score_generations import run_score_generations_job

N = 6


@pytest.fixture
def dataset(store, tmp_path):
    rows = [{**row, "id": f"ex-{i}", "split": "test"} for i, row in enumerate(trl_rows(N))]
    rows.append({**trl_rows(N + 1)[-1], "split": "train"})  # a pair outside the split
    ingest(store, write_jsonl(tmp_path / "d.jsonl", rows), name="d", progress=False)
    return "d"


@pytest.fixture(scope="module")
def other_lm(tmp_path_factory) -> Path:
    return make_tiny_lm_dir(tmp_path_factory.mktemp("other-lm"), seed=1)


def _generations(store, run_id: int) -> list[tuple]:
    with store() as s:
        rows = s.execute(
            select(
                Generation.pair_id,
                Generation.policy,
                Generation.text,
                Generation.finish_reason,
                Generation.n_tokens,
            )
            .where(Generation.run_id == run_id)
            .order_by(Generation.pair_id, Generation.policy)
        ).all()
    return [tuple(r) for r in rows]


def _texts(store, run_id: int) -> list[dict]:
    """The run's answers with their prompt messages, for the writers below."""
    with store() as s:
        gens = s.scalars(
            select(Generation).where(Generation.run_id == run_id).order_by(Generation.id)
        ).all()
        return [
            {
                "pair_id": g.pair_id,
                "messages": _prompt(s, g.pair_id),
                "policy": g.policy,
                "text": g.text,
                "finish_reason": g.finish_reason,
                "tokens": g.n_tokens,
            }
            for g in gens
        ]


def _prompt(session, pair_id: int) -> list[dict]:
    from db.schema import Pair

    return session.get(Pair, pair_id).prompt


# ------------------------------------------------ writers of the other tools' layouts
def write_alpacaeval(answers: list[dict], path: Path) -> Path:
    """AlpacaEval's model_outputs.json: a JSON array of instruction/output/generator."""
    rows = [
        {"instruction": a["messages"][-1]["content"], "output": a["text"], "generator": a["policy"]}
        for a in answers
    ]
    path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return path


def write_align_anything(answers: list[dict], path: Path, template: str) -> Path:
    """align-anything's {model_id}_brief_*.jsonl: the prompt as vLLM saw it (rendered
    through a chat template) and outputs [{index, text}]."""
    rows = [
        {
            "prompt": template.format(a["messages"][-1]["content"]),
            "outputs": [{"index": 0, "text": a["text"]}],
        }
        for a in answers
    ]
    return write_jsonl(path, rows)


def write_preflens_jsonl(answers: list[dict], path: Path) -> Path:
    rows = [
        {
            "prompt": a["messages"],
            "policy": a["policy"],
            "response": a["text"],
            "finish_reason": a["finish_reason"],
            "tokens": a["tokens"],
        }
        for a in answers
    ]
    return write_jsonl(path, rows)


# ------------------------------------------------ generations
def test_generation_round_trips_and_score_generations_on_the_import(
    store, dataset, tmp_path, tiny_lm, other_lm
):
    policies = {"base": str(tiny_lm), "other": str(other_lm)}
    own = run_generate_job(
        store, policies, dataset, "test", max_new_tokens=5, temperature=0.0, progress=False
    ).run
    original = _generations(store, own.id)
    assert len(original) == 2 * N
    answers = _texts(store, own.id)

    # PrefLens's own JSONL keeps everything: finish reasons and token counts too.
    rep = import_generations(store, write_preflens_jsonl(answers, tmp_path / "g.jsonl"), dataset)
    assert (rep.format, rep.detected, rep.refused) == ("jsonl", True, [])
    assert _generations(store, rep.run_id) == original
    with store() as s:
        imported = s.get(Run, rep.run_id)
        assert imported.kind == "generate" and imported.status == "done"
        assert imported.split == "test" and imported.config["imported"] is True
        assert read.generate_run_summary(s, rep.run_id)["policies"] == {
            name: {**p, "mean_seconds": None}
            for name, p in read.generate_run_summary(s, own.id)["policies"].items()
        }
    # The same file again: the same run.
    again = import_generations(store, tmp_path / "g.jsonl", dataset)
    assert again.reused and again.run_id == rep.run_id

    # AlpacaEval and align-anything carry no finish reason or token count.
    for fmt, path in (
        ("alpacaeval", write_alpacaeval(answers, tmp_path / "model_outputs.json")),
        *(
            (
                "align-anything",
                write_align_anything(
                    [a for a in answers if a["policy"] == name],
                    tmp_path / f"{name}_brief_test.jsonl",
                    "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n",
                ),
            )
            for name in policies
        ),
    ):
        got = import_generations(store, path, dataset)
        assert (got.format, got.refused) == (fmt, [])
        rows = _generations(store, got.run_id)
        expected = [r for r in original if fmt == "alpacaeval" or r[1] in path.name]
        assert [r[:3] for r in rows] == [r[:3] for r in expected]
        assert {r[3:] for r in rows} == {("unknown", None)}

    # score-generations on the imported run gives the scores of PrefLens's own run.
    mine = run_score_generations_job(store, str(tiny_lm), own.id, progress=False).run
    theirs = run_score_generations_job(store, str(tiny_lm), rep.run_id, progress=False).run
    with store() as s:
        assert (
            read.run_summary(s, theirs.id)["comparisons"]
            == read.run_summary(s, mine.id)["comparisons"]
        )
        scatter_mine, scatter_theirs = (
            {k: v for k, v in read.generation_scatter(s, r).items() if k != "run_id"}
            for r in (mine.id, theirs.id)
        )
        assert scatter_theirs == scatter_mine
        box_mine, box_theirs = (
            {k: v for k, v in read.box_stats(s, r, "score", policy="base").items() if k != "run_id"}
            for r in (mine.id, theirs.id)
        )
        assert box_theirs == box_mine
        d_mine, d_theirs = (
            generation_diagnostics(s, mine.id, b=1000),
            generation_diagnostics(s, theirs.id, b=1000),
        )
        assert d_theirs["comparisons"] == d_mine["comparisons"]
        assert d_theirs["policies"] == d_mine["policies"]


# ------------------------------------------------ scores
def _pair_scores(store, run_id: int) -> dict[int, tuple[float, float]]:
    with store() as s:
        rows = s.execute(
            select(PairScore.pair_id, PairScore.score_chosen, PairScore.score_rejected).where(
                PairScore.run_id == run_id
            )
        ).all()
    return {pid: (c, r) for pid, c, r in rows}


def write_rewardbench(store, run_id: int, path: Path) -> Path:
    """RewardBench's per-example results: one JSON object of columns (what
    ``datasets.Dataset.to_dict`` writes), some models' scores as one-element lists."""
    from db.schema import Pair

    with store() as s:
        rows = s.execute(
            select(Pair.source_id, Pair.category, PairScore.score_chosen, PairScore.score_rejected)
            .join(Pair, Pair.id == PairScore.pair_id)
            .where(PairScore.run_id == run_id)
            .order_by(Pair.id)
        ).all()
    cols = {
        "id": [int(r[0].split("-")[1]) if k % 2 else r[0] for k, r in enumerate(rows)],
        "subset": ["chat"] * len(rows),
        "scores_chosen": [[r[2]] if k % 2 else r[2] for k, r in enumerate(rows)],
        "scores_rejected": [r[3] for r in rows],
        "results": [int(r[2] > r[3]) for r in rows],
        "model": "tiny",
        "model_type": "Seq. Classifier",
    }
    path.write_text(json.dumps(cols, indent=4, sort_keys=True), encoding="utf-8")
    return path


@pytest.mark.both_databases
def test_score_round_trips_and_everything_works_on_the_import(
    store, db_url, dataset, tmp_path, tiny_lm, monkeypatch, capsys
):
    own = run_score_job(store, str(tiny_lm), dataset, "test", progress=False).run
    scores = _pair_scores(store, own.id)
    assert len(scores) == N

    # RewardBench names pairs by the dataset's own ids; the ids written as numbers for
    # half of them ("ex-1" -> 1) match no pair and are reported, not dropped silently.
    rb = import_scores(
        store, write_rewardbench(store, own.id, tmp_path / "rb.json"), dataset, "tiny"
    )
    assert rb.format == "rewardbench" and rb.stored == N // 2
    assert [row for row, _ in rb.refused] == [2, 4, 6]
    assert all("no pair of the selection has source id" in why for _, why in rb.refused)
    assert _pair_scores(store, rb.run_id) == {
        k: v for k, v in scores.items() if k in _pair_scores(store, rb.run_id)
    }

    # PrefLens's JSONL names pairs three ways; each gives the same scores.
    with store() as s:
        from db.schema import Pair

        pairs = {p.id: p for p in s.scalars(select(Pair).where(Pair.id.in_(scores)))}
    lines = []
    for k, (pid, (c, r)) in enumerate(sorted(scores.items())):
        p = pairs[pid]
        name = [
            {"pair_id": pid},
            {"id": p.source_id},
            {"prompt": p.prompt, "chosen": p.chosen, "rejected": p.rejected},
        ][k % 3]
        lines.append({**name, "score_chosen": c, "score_rejected": r})
    got = import_scores(store, write_jsonl(tmp_path / "s.jsonl", lines), dataset, "tiny")
    assert (got.format, got.refused, got.stored) == ("jsonl", [], N)
    assert _pair_scores(store, got.run_id) == scores
    with store() as s:
        run = s.get(Run, got.run_id)
        assert (run.kind, run.status, run.split, run.config["imported"]) == (
            "score",
            "done",
            "test",
            True,
        )
        ours, theirs = read.score_summary(s, own.id), read.score_summary(s, got.run_id)
        for key in ("pairs", "accuracy", "reward_mean", "reward_std", "gap_mean"):
            assert theirs[key] == pytest.approx(ours[key])
        d_own, d_imp = run_diagnostics(s, own.id, b=1000), run_diagnostics(s, got.run_id, b=1000)
        assert d_imp["accuracy"] == d_own["accuracy"] and d_imp["auc"] == d_own["auc"]
        same = paired(s, own.id, got.run_id, b=1000)
        assert same["n"] == N and same["difference"]["value"] == 0
        assert same["flips"]["wrong_to_right"] == same["flips"]["right_to_wrong"] == 0
        noise = label_noise_candidates(s, [own.id, got.run_id])
        alone = label_noise_candidates(s, [own.id])["candidates"]
        assert alone  # the untrained head prefers some rejected responses
        assert [(c["pair_id"], c["mean_gap"], c["runs_against"]) for c in noise["candidates"]] == [
            (c["pair_id"], c["mean_gap"], 2) for c in alone
        ]
        page = read.search_cases(s, got.run_id, limit=50)
        assert sorted(i["pair_id"] for i in page["items"]) == sorted(scores)
        case = read.get_case(s, got.run_id, min(scores))
        assert case["scores"]["score_chosen"] == scores[min(scores)][0]
        assert case["scores"]["tokens_chosen"] is None  # not known for imported scores
        exported = list(export_rows(s, got.run_id))
        # Response lengths in characters are the ones PrefLens's own run stored.
        chars = [(r["chars_chosen"], r["chars_rejected"]) for r in export_rows(s, own.id)]
        assert [(r["chars_chosen"], r["chars_rejected"]) for r in exported] == chars
        assert [(r["pair_id"], r["score_chosen"]) for r in exported] == [
            (pid, scores[pid][0]) for pid in sorted(scores)
        ]

    # The command line: export and report on the imported run.
    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    from preflens.config import get_settings

    get_settings.cache_clear()
    out = tmp_path / "exp.csv"
    assert main(["export", str(got.run_id), "--format", "csv", "-o", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == N + 1
    capsys.readouterr()
    assert main(["runs"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if "[imported (" in line]
    assert [line.split()[0] for line in listed] == [str(rb.run_id), str(got.run_id)]
    html = tmp_path / "r.html"
    assert main(["report", str(got.run_id), "-o", str(html)]) == 0
    assert html.stat().st_size > 0


def test_align_anything_scores_of_a_generation_run(store, dataset, tmp_path, tiny_lm, other_lm):
    policies = {"base": str(tiny_lm), "other": str(other_lm)}
    gen = run_generate_job(
        store, policies, dataset, "test", max_new_tokens=5, temperature=0.0, progress=False
    ).run
    own = run_score_generations_job(store, str(tiny_lm), gen.id, progress=False).run
    with store() as s:
        rows = s.execute(
            select(Generation.pair_id, Generation.text, GenerationScore.score)
            .join(GenerationScore, GenerationScore.generation_id == Generation.id)
            .where(GenerationScore.run_id == own.id)
            .order_by(Generation.id)
        ).all()
        # align-anything strips its template and writes the prompt as text.
        data = [
            {"prompt": _prompt(s, pid)[-1]["content"], "response": text, "score": score}
            for pid, text, score in rows
        ]
    path = tmp_path / "eval_data_with_score.json"
    path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    rep = import_scores(store, path, dataset, "tiny", generation_run=gen.id)
    # Two policies may give the same answer text: its one score is the score of both, and
    # the row repeating it is refused as scored already.
    same_text = {pid for pid, text, _ in rows if sum(t == text for p, t, _ in rows if p == pid) > 1}
    assert rep.format == "align-anything" and rep.run_kind == "score_generations"
    assert rep.items == 2 * N and len(rep.refused) == len(same_text)
    assert rep.stored == len(data) - len(same_text)
    assert all("scored already" in why for _, why in rep.refused)
    with store() as s:
        assert (
            read.run_summary(s, rep.run_id)["comparisons"]
            == read.run_summary(s, own.id)["comparisons"]
        )
        assert s.get(Run, rep.run_id).parent_run_id == gen.id
        case = read.get_case(s, rep.run_id, rows[0][0])
        assert {g["score"] for g in case["generations"]} <= {r[2] for r in rows}


@pytest.mark.both_databases
def test_add_prompts_makes_a_prompt_set_and_preference_data_is_never_changed(
    store, db_url, dataset, tmp_path, tiny_lm, monkeypatch, capsys
):
    from db.schema import Dataset, Pair
    from preflens.config import get_settings

    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    known = trl_rows(N)[0]["prompt"]
    first = write_jsonl(
        tmp_path / "first.jsonl",
        [
            {"prompt": known, "policy": "p", "response": "one"},
            {"prompt": "A brand new prompt?", "policy": "p", "response": "two"},
            {"prompt": "A brand new prompt?", "policy": "q", "response": "three"},
        ],
    )
    # Without --add-prompts the unknown prompt's rows are refused by number.
    plain = import_generations(store, first, dataset)
    assert [row for row, _ in plain.refused] == [2, 3] and plain.stored == 1
    # A preference dataset is never changed.
    assert main(["import-generations", str(first), "--dataset", "d", "--add-prompts"]) == 2
    assert "holds preference pairs" in capsys.readouterr().err

    made = import_generations(store, first, "mine", add_prompts=True)
    assert (made.stored, made.added_prompts, made.refused) == (3, 2, [])
    second = write_jsonl(
        tmp_path / "second.jsonl",
        [
            {"prompt": "A brand new prompt?", "policy": "r", "response": "four"},
            {
                "prompt": [{"role": "user", "content": "Another one?"}],
                "policy": "r",
                "response": "5",
            },
        ],
    )
    more = import_generations(store, second, "mine", add_prompts=True)
    assert (more.stored, more.added_prompts) == (2, 1)
    with store() as s:
        ds = s.scalars(select(Dataset).where(Dataset.name == "mine")).one()
        prompts = s.scalars(select(Pair.prompt_text).where(Pair.dataset_id == ds.id)).all()
        assert ds.format == "prompts" and len(prompts) == 3
        d_pairs = s.scalar(
            select(func.count()).select_from(Pair).join(Dataset).where(Dataset.name == "d")
        )
        assert d_pairs == N + 1
        runs = {r.id: r for r in s.scalars(select(Run).where(Run.dataset_id == ds.id))}
        assert set(runs) == {made.run_id, more.run_id}
    # The answers score like any others; commands that need pairs refuse the prompt set.
    scored = run_score_generations_job(store, str(tiny_lm), made.run_id, progress=False).run
    assert scored.summary["comparisons"][0]["n"] == 1  # p and q both answered one prompt
    capsys.readouterr()
    assert main(["score", "--model", str(tiny_lm), "--dataset", "mine"]) == 2
    assert "is a prompt set" in capsys.readouterr().err
    out = tmp_path / "x.jsonl"
    assert main(["export-dataset", "mine", "--format", "jsonl", "-o", str(out)]) == 2
    assert "is a prompt set" in capsys.readouterr().err and not out.exists()
