"""Tests for the seeded demo preference set (training.demo_data)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from training.demo_data import CATEGORIES, build_demo_pairs, write_demo_dataset

EXPECTED_CATEGORIES = {"safety", "helpfulness", "factuality", "on_topic", "conciseness"}


@pytest.fixture(scope="module")
def pairs() -> list[dict]:
    return build_demo_pairs(seed=0)


def _longer_wins(rows: list[dict]) -> float:
    return sum(len(r["chosen"]) > len(r["rejected"]) for r in rows) / len(rows)


def _by_category(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row["category"]].append(row)
    return grouped


def test_size_categories_and_splits(pairs: list[dict]) -> None:
    assert len(pairs) >= 600
    grouped = _by_category(pairs)
    assert set(grouped) == EXPECTED_CATEGORIES == set(CATEGORIES)
    for name, rows in grouped.items():
        splits = Counter(r["split"] for r in rows)
        assert set(splits) == {"train", "test"}, name
        assert abs(splits["test"] / len(rows) - 0.2) <= 0.1, name
    test_share = sum(r["split"] == "test" for r in pairs) / len(pairs)
    assert abs(test_share - 0.2) <= 0.1


@pytest.mark.parametrize("fraction", [0.1, 0.35])
def test_test_fraction_is_respected(fraction: float) -> None:
    rows = build_demo_pairs(seed=3, test_fraction=fraction)
    for name, group in _by_category(rows).items():
        share = sum(r["split"] == "test" for r in group) / len(group)
        assert abs(share - fraction) <= 0.1, name
        assert {r["split"] for r in group} == {"train", "test"}, name


def test_invalid_test_fraction_is_rejected() -> None:
    with pytest.raises(ValueError):
        build_demo_pairs(test_fraction=1.5)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_length_does_not_give_the_label_away(seed: int) -> None:
    rows = build_demo_pairs(seed=seed)
    overall = _longer_wins(rows)
    per_category = {name: _longer_wins(group) for name, group in _by_category(rows).items()}
    print(
        f"\nseed {seed}: longer-wins overall {overall:.3f}; "
        + ", ".join(f"{name} {share:.3f}" for name, share in sorted(per_category.items()))
    )
    assert 0.35 <= overall <= 0.65
    assert per_category["conciseness"] == 0.0  # by definition the chosen answer is shorter


def test_deterministic_per_seed() -> None:
    assert build_demo_pairs(seed=0) == build_demo_pairs(seed=0)
    assert build_demo_pairs(seed=5, test_fraction=0.3) == build_demo_pairs(
        seed=5, test_fraction=0.3
    )
    assert build_demo_pairs(seed=0) != build_demo_pairs(seed=1)


def test_does_not_touch_global_random_state() -> None:
    import random

    random.seed(123)
    expected = random.random()
    random.seed(123)
    build_demo_pairs(seed=2)
    assert random.random() == expected


def test_variety(pairs: list[dict]) -> None:
    prompts = [r["prompt"][0]["content"] for r in pairs]
    chosen = [r["chosen"] for r in pairs]
    assert len(set(prompts)) / len(pairs) >= 0.9
    assert len(set(chosen)) / len(pairs) >= 0.8
    triples = {(p, r["chosen"], r["rejected"]) for p, r in zip(prompts, pairs, strict=True)}
    assert len(triples) == len(pairs)


def test_row_shape_and_content(pairs: list[dict]) -> None:
    for row in pairs:
        assert set(row) == {"prompt", "chosen", "rejected", "category", "split"}
        prompt = row["prompt"]
        assert isinstance(prompt, list) and len(prompt) == 1
        assert prompt[0]["role"] == "user"
        assert set(prompt[0]) == {"role", "content"}
        for text in (prompt[0]["content"], row["chosen"], row["rejected"]):
            assert isinstance(text, str) and text.strip() == text and text
        assert row["chosen"] != row["rejected"]
        assert row["split"] in {"train", "test"}


def test_responses_are_short(pairs: list[dict]) -> None:
    lengths = [len(r[side]) for r in pairs for side in ("chosen", "rejected")]
    assert sum(n < 600 for n in lengths) / len(lengths) >= 0.99
    assert max(lengths) < 800


def test_category_rules_show_in_text(pairs: list[dict]) -> None:
    grouped = _by_category(pairs)
    for row in grouped["on_topic"]:
        # the drifting answer starts with the same on-topic sentence as the focused one
        assert row["rejected"].split(". ")[0] == row["chosen"].split(". ")[0]
    for row in grouped["conciseness"]:
        assert len(row["chosen"]) < len(row["rejected"])
    refusal_words = ("can't", "won't", "not able", "not something", "pass on")
    for row in grouped["safety"]:
        assert any(word in row["chosen"] for word in refusal_words)


def test_write_demo_dataset_round_trips(tmp_path) -> None:
    target = tmp_path / "nested" / "demo.jsonl"
    returned = write_demo_dataset(target, seed=4, test_fraction=0.25)
    assert returned == target and target.is_file()
    lines = target.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert rows == build_demo_pairs(seed=4, test_fraction=0.25)
    assert any(not line.isascii() for line in lines)  # ensure_ascii=False keeps "°", "é"


def test_write_demo_dataset_accepts_str_path(tmp_path) -> None:
    returned = write_demo_dataset(str(tmp_path / "demo.jsonl"))
    rows = [json.loads(line) for line in returned.read_text(encoding="utf-8").splitlines()]
    assert rows == build_demo_pairs()


def test_every_category_has_a_rule() -> None:
    assert set(CATEGORIES) == EXPECTED_CATEGORIES
    for name, rule in CATEGORIES.items():
        assert isinstance(rule, str) and rule.strip(), name
