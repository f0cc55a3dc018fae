"""Generation and generation scoring on a real SQLite store with tiny models."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from db.schema import Generation, GenerationScore, Run
from preflens.stats import compare
from tests.factories import Boom, ingest_test_split
from training.generation import generate_answers
from training.jobs.generate import run_generate_job
from training.jobs.score_generations import run_score_generations_job
from training.loading import load_policy


@pytest.fixture
def dataset(store, tmp_path):
    return ingest_test_split(store, tmp_path, "g", 7)


def test_finish_reasons_for_an_answer_that_ends_and_one_that_is_cut(stopping_lm):
    policy = load_policy(str(stopping_lm), "tiny", device="cpu")
    prompt = [[{"role": "user", "content": "Is this a brand new question?"}]]
    ended = generate_answers(policy, prompt, max_new_tokens=20, temperature=0)[0]
    assert ended.finish_reason == "stop" and ended.text == "ok"
    assert ended.n_tokens < 20
    cut = generate_answers(policy, prompt, max_new_tokens=1, temperature=0)[0]
    assert cut.finish_reason == "length" and cut.n_tokens == 1


def test_interrupted_generation_resumes_with_one_answer_per_prompt_and_policy(
    store, dataset, stopping_lm, tiny_lm
):
    policies = {"base": str(tiny_lm), "tuned": str(stopping_lm)}
    kwargs = dict(max_new_tokens=6, temperature=0.0, batch_size=3, progress=False)

    def crash(k: int) -> None:
        if k == 3:  # base has 3 batches (7 prompts); crash after the first tuned batch
            raise Boom("injected")

    with pytest.raises(Boom):
        run_generate_job(store, policies, dataset, "test", on_batch=crash, **kwargs)
    with store() as s:
        assert s.scalars(select(Run.status)).one() == "failed"
        assert s.scalar(select(func.count()).select_from(Generation)) == 7 + 3
    result = run_generate_job(store, policies, dataset, "test", **kwargs)
    assert result.done_now == 4 and result.run.status == "done"
    with store() as s:
        counts = s.execute(
            select(Generation.pair_id, Generation.policy, func.count()).group_by(
                Generation.pair_id, Generation.policy
            )
        ).all()
        assert len(counts) == 14 and all(c == 1 for *_, c in counts)
        reasons = dict(
            s.execute(
                select(Generation.policy, func.min(Generation.finish_reason)).group_by(
                    Generation.policy
                )
            ).all()
        )
    assert reasons["tuned"] == "stop"
    summary = result.run.summary["policies"]
    assert summary["base"]["n"] == 7 and summary["tuned"]["n"] == 7
    again = run_generate_job(store, policies, dataset, "test", **kwargs)
    assert again.reused and again.run.id == result.run.id


def test_score_generations_compares_policies(store, dataset, stopping_lm, tiny_lm):
    gen = run_generate_job(
        store,
        {"base": str(tiny_lm), "tuned": str(stopping_lm)},
        dataset,
        "test",
        max_new_tokens=5,
        temperature=0.0,
        progress=False,
    ).run
    result = run_score_generations_job(store, str(tiny_lm), gen.id, progress=False)
    run = result.run
    assert run.parent_run_id == gen.id and result.done_now == 14
    with store() as s:
        rows = s.execute(
            select(Generation.policy, Generation.pair_id, GenerationScore.score, Generation.text)
            .join(Generation, Generation.id == GenerationScore.generation_id)
            .where(GenerationScore.run_id == run.id)
        ).all()
    by = {(p, pid): (sc, text) for p, pid, sc, text in rows}
    pids = sorted({pid for _, pid in by})
    base = np.array([by[("base", i)][0] for i in pids])
    tuned = np.array([by[("tuned", i)][0] for i in pids])
    stats = run.summary["policies"]
    assert stats["tuned"]["mean"] == pytest.approx(tuned.mean())
    assert stats["base"]["std"] == pytest.approx(base.std())
    assert stats["tuned"]["mean_chars"] == pytest.approx(
        np.mean([len(by[("tuned", i)][1]) for i in pids])
    )
    [cmp] = run.summary["comparisons"]
    assert (cmp["a"], cmp["b"]) == ("tuned", "base")
    expected = compare(tuned, base)
    assert cmp["wins"] == expected["wins"] and cmp["mean_diff"] == pytest.approx(
        expected["mean_diff"]
    )
    assert run_score_generations_job(store, str(tiny_lm), gen.id, progress=False).reused


def test_static_cache_setting_gives_the_same_greedy_answers(tiny_lm, monkeypatch):
    from preflens.config import get_settings

    policy = load_policy(str(tiny_lm), "tiny", device="cpu")
    seen: list[str] = []
    policy.model.register_forward_pre_hook(
        lambda _m, _a, kw: seen.append(type(kw.get("past_key_values")).__name__),
        with_kwargs=True,
    )
    prompts = [[{"role": "user", "content": "Hello" + " there" * i}] for i in range(3)]
    dynamic = generate_answers(policy, prompts, max_new_tokens=6, temperature=0)
    assert "DynamicCache" in seen and "StaticCache" not in seen
    seen.clear()
    monkeypatch.setenv("PREFLENS_GENERATE_CACHE", "static")
    get_settings.cache_clear()
    static = generate_answers(policy, prompts, max_new_tokens=6, temperature=0)
    assert "StaticCache" in seen
    assert [(a.text, a.n_tokens) for a in static] == [(a.text, a.n_tokens) for a in dynamic]
