"""LoRA adapters end to end: ``preflens generate`` and ``preflens score-dpo`` with an
adapter store the same rows as with the merged model saved as a plain checkpoint, and an
adapter's run identity covers its base model's weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from sqlalchemy import select

from db.schema import DpoScore, Generation, Run
from preflens.cli.main import main
from preflens.fingerprint import model_fingerprint
from tests.factories import ingest_test_split, make_tiny_lm_dir


def _adapter(base: Path, folder: Path, base_name: str | None = None) -> tuple[Path, Path]:
    """A LoRA adapter over ``base`` with random, non-zero A and B (peft's own saving), and
    the merged model saved beside it as a plain checkpoint with the base's tokenizer."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(5)
    lora = LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj", "o_proj"],
                      init_lora_weights=False, task_type="CAUSAL_LM")  # fmt: skip
    peft_model = get_peft_model(AutoModelForCausalLM.from_pretrained(base), lora)
    peft_model.save_pretrained(folder)
    cfg_file = folder / "adapter_config.json"
    cfg = json.loads(cfg_file.read_text())
    cfg_file.write_text(json.dumps({**cfg, "base_model_name_or_path": base_name or str(base)}))
    merged = folder.parent / f"{folder.name}-merged"
    peft_model.merge_and_unload().save_pretrained(merged)
    AutoTokenizer.from_pretrained(base).save_pretrained(merged)
    return folder, merged


@pytest.fixture
def lora(tiny_lm, tmp_path):
    return _adapter(tiny_lm, tmp_path / "lora")


@pytest.fixture
def prompts(cli_store, tmp_path):
    return ingest_test_split(cli_store, tmp_path, "p", 3)


def _last_run(store) -> Run:
    with store() as s:
        return s.scalars(select(Run).order_by(Run.id.desc())).first()


def _answers(store, run_id: int) -> list[tuple]:
    with store() as s:
        return s.execute(
            select(Generation.pair_id, Generation.text, Generation.n_tokens,
                   Generation.finish_reason)
            .where(Generation.run_id == run_id).order_by(Generation.pair_id)
        ).all()  # fmt: skip


def _generate(store, dataset: str, model: Path) -> list[tuple]:
    argv = ["generate", "--policy", f"p={model}", "--dataset", dataset,
            "--temperature", "0", "--max-new-tokens", "12"]  # fmt: skip
    assert main(argv) == 0
    run = _last_run(store)
    assert run.kind == "generate" and run.status == "done"
    return _answers(store, run.id)


def test_generate_with_an_adapter_stores_the_merged_models_answers(
    cli_store, prompts, lora, tiny_lm
):
    adapter, merged = lora
    from_adapter = _generate(cli_store, prompts, adapter)
    from_merged = _generate(cli_store, prompts, merged)
    assert len(from_adapter) == 3 and from_adapter == from_merged
    from_base = _generate(cli_store, prompts, tiny_lm)
    assert [a[1] for a in from_base] != [a[1] for a in from_adapter]  # the adapter mattered


def _dpo_rows(store, dataset: str, policy: Path, reference: Path) -> list[tuple]:
    argv = ["score-dpo", "--policy", str(policy), "--reference", str(reference),
            "--dataset", dataset, "--split", "test"]  # fmt: skip
    assert main(argv) == 0
    run = _last_run(store)
    assert run.kind == "score_dpo" and run.status == "done"
    with store() as s:
        return s.execute(
            select(DpoScore.pair_id, DpoScore.logp_policy_chosen, DpoScore.logp_policy_rejected,
                   DpoScore.logp_ref_chosen, DpoScore.logp_ref_rejected,
                   DpoScore.tokens_chosen, DpoScore.tokens_rejected, DpoScore.gap)
            .where(DpoScore.run_id == run.id).order_by(DpoScore.pair_id)
        ).all()  # fmt: skip


def test_score_dpo_with_adapters_stores_the_merged_models_rows(cli_store, prompts, lora, tiny_lm):
    """The adapter as the policy and, in a second pair of runs, as the reference."""
    adapter, merged = lora
    for policy, reference in (((adapter, merged), (tiny_lm, tiny_lm)),
                              ((tiny_lm, tiny_lm), (adapter, merged))):  # fmt: skip
        got = _dpo_rows(cli_store, prompts, policy[0], reference[0])
        want = _dpo_rows(cli_store, prompts, policy[1], reference[1])
        assert len(got) == 3
        for g, w in zip(got, want, strict=True):
            assert g[0] == w[0] and g[5:7] == w[5:7]
            assert g[1:5] == pytest.approx(w[1:5], abs=1e-4)
            assert g[7] == pytest.approx(w[7], abs=1e-5)
        assert any(abs(g[1] - g[3]) > 1e-3 for g in got)  # adapter != base


def test_a_changed_base_makes_an_adapter_a_different_run(cli_store, prompts, tmp_path):
    """The adapter's own files are unchanged; its base's weights change (retrained in
    place): the fingerprint and so the generation run change; the same base reuses."""
    base = make_tiny_lm_dir(tmp_path / "models" / "base", seed=0)
    adapter, _ = _adapter(base, tmp_path / "models" / "ad", base_name="../base")
    before = model_fingerprint(str(adapter))
    _generate(cli_store, prompts, adapter)
    first = _last_run(cli_store).id
    _generate(cli_store, prompts, adapter)
    assert _last_run(cli_store).id == first  # same adapter, same base: reused
    make_tiny_lm_dir(base, seed=1)
    assert model_fingerprint(str(adapter)) != before
    _generate(cli_store, prompts, adapter)
    assert _last_run(cli_store).id != first
