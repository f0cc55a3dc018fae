"""A small, seeded demo preference dataset in plain English.

The demo set is used to show reward-model and DPO training on a small model: every row is a
single-turn prompt with a *chosen* (better) and a *rejected* (worse) response, a category
and a train/test split. There are five categories, each with one rule for which response
is better:

``safety``
    The prompt is a harmful request (breaking into a home, stalking, phishing, hurting an
    animal, ...). The better response declines briefly and offers a safe alternative; the
    worse one goes along with it. The compliance is written to be vague and contains no
    real instructions - it is worse because it agrees to help at all.
``helpfulness``
    An ordinary practical question. The better response answers it directly; the worse one
    evades, deflects or says to look it up somewhere else.
``factuality``
    A factual question (capitals, authors, dates, units, chemistry, astronomy, ...). Both
    responses use the same wording; the better one states the correct fact, the worse one a
    plausible wrong one.
``on_topic``
    An ordinary question. The better response stays on the question; the worse one starts
    with the right answer and then drifts into an unrelated subject.
``conciseness``
    A simple question. The better response answers in one or two sentences; the worse one
    gives the same answer wrapped in padding, repetition and filler.

Length does not give the label away: conciseness always has the shorter response chosen,
so in the other four categories each pair draws several candidate wordings per side and
keeps a combination whose length order matches a per-category target rate. Over the whole
set the longer response is the chosen one in about half of the pairs.

Everything is derived from ``random.Random`` instances seeded from ``seed`` (never the
global random state), so the same seed always gives the same list. The text tables live in
:mod:`training.demo_texts`.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training import demo_texts as texts

CATEGORIES: dict[str, str] = {
    "safety": "For a harmful request, the better response declines briefly and offers a safe "
    "alternative; the worse one goes along with the request.",
    "helpfulness": "For an ordinary question, the better response answers it directly; the "
    "worse one evades, deflects or says to look it up elsewhere.",
    "factuality": "For a factual question, the better response states the correct fact; the "
    "worse one states a plausible but wrong fact in the same style.",
    "on_topic": "The better response stays on the question; the worse one starts on topic and "
    "then drifts into an unrelated subject.",
    "conciseness": "For a simple question, the better response answers in one or two "
    "sentences; the worse one wraps the same answer in padding, repetition and filler.",
}

PAIRS_PER_CATEGORY = 140
"""Pairs generated for each category (5 x 140 = 700 in all)."""

# Share of pairs per category whose chosen response is drafted longer than the rejected
# one. Conciseness is 0 by construction, so the other four sit at 5/8 to bring the overall
# share to about one half (4 x 0.625 / 5 = 0.5).
_CHOSEN_LONGER_RATE: dict[str, float] = {
    "safety": 0.625,
    "helpfulness": 0.625,
    "factuality": 0.625,
    "on_topic": 0.625,
    "conciseness": 0.0,
}
_CANDIDATES = 4  # candidate wordings drafted per side of a pair
_MAX_ATTEMPTS = 40  # redraws allowed to find an unseen prompt and chosen response
_MAX_CHARS = 560  # padded conciseness answers are trimmed below this

# A draft: prompt text, candidate chosen responses, candidate rejected responses.
Draft = tuple[str, list[str], list[str]]


# ---------------------------------------------------------------------------------------
# small text helpers
# ---------------------------------------------------------------------------------------
def _sub_rng(seed: int, name: str) -> random.Random:
    """An independent ``random.Random`` for one part of the build, derived from ``seed``."""
    digest = hashlib.sha256(f"preflens-demo/{seed}/{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _decap(text: str) -> str:
    """Lower-case the first letter so the text can follow a comma (but keep "I ...")."""
    if text.startswith(("I ", "I'")):
        return text
    return text[:1].lower() + text[1:]


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _frame(
    rng: random.Random, question: str, prefixes: Sequence[str], suffixes: Sequence[str]
) -> str:
    return f"{rng.choice(prefixes)}{question}{rng.choice(suffixes)}".strip()


def _pick_by_length(
    rng: random.Random, chosen: list[str], rejected: list[str], chosen_longer: bool
) -> tuple[str, str]:
    """Pick one chosen and one rejected candidate whose length order matches the target
    (or, if no combination does, the one that comes closest)."""
    combos = [(c, r) for c in chosen for r in rejected if c != r]
    rng.shuffle(combos)
    for c, r in combos:
        if (len(c) > len(r)) == chosen_longer:
            return c, r
    sign = 1 if chosen_longer else -1
    return max(combos, key=lambda cr: sign * (len(cr[0]) - len(cr[1])))


def _candidates(make: Callable[[bool], str]) -> list[str]:
    """Draft ``_CANDIDATES`` wordings, alternating between brief and fuller ones."""
    return [make(i % 2 == 1) for i in range(_CANDIDATES)]


def _maybe(
    rng: random.Random, full: bool, text: str, p_full: float = 0.8, p_brief: float = 0.15
) -> str:
    """``text`` with a high probability in a fuller draft, a low one in a brief draft."""
    return text if rng.random() < (p_full if full else p_brief) else ""


# ---------------------------------------------------------------------------------------
# one drafting function per category
# ---------------------------------------------------------------------------------------
def _draft_safety(rng: random.Random, item: texts.HarmfulRequest) -> Draft:
    prompt = _frame(rng, rng.choice(item.asks), texts.SAFETY_PREFIXES, texts.SAFETY_SUFFIXES)

    def refusal(full: bool) -> str:
        alternatives = rng.sample(item.alternatives, 2 if full and rng.random() < 0.6 else 1)
        return _join(
            rng.choice(texts.REFUSAL_OPENERS).format(what=item.what),
            _maybe(rng, full, rng.choice(texts.REFUSAL_REASONS)),
            *alternatives,
            _maybe(rng, full, rng.choice(texts.REFUSAL_CLOSERS)),
        )

    def compliance(full: bool) -> str:
        said = rng.sample(item.compliance, 2 if full or rng.random() < 0.3 else 1)
        return _join(
            rng.choice(texts.COMPLY_OPENERS),
            *said,
            _maybe(rng, full, rng.choice(texts.COMPLY_CLOSERS)),
        )

    return prompt, _candidates(refusal), _candidates(compliance)


def _draft_helpfulness(rng: random.Random, item: texts.QAItem) -> Draft:
    prompt = _frame(rng, item.question, texts.QUESTION_PREFIXES, texts.QUESTION_SUFFIXES)

    def answer(full: bool) -> str:
        extra = [_maybe(rng, full, s, 0.7, 0.2) for s in item.answer[1:]]
        return _join(
            _maybe(rng, full, rng.choice(texts.HELPFUL_OPENERS), 0.6, 0.3),
            item.answer[0],
            *extra,
            _maybe(rng, full, rng.choice(texts.HELPFUL_CLOSERS), 0.6, 0.2),
        )

    def evasion(full: bool) -> str:
        count = rng.choice((2, 3)) if full else rng.choice((1, 1, 2))
        said = [s.format(topic=item.topic) for s in rng.sample(texts.EVASIONS, count)]
        opener = rng.choice(texts.EVASION_OPENERS)
        if opener.endswith(", "):
            said[0] = _decap(said[0])
        return _join(opener + said[0], *said[1:])

    return prompt, _candidates(answer), _candidates(evasion)


def _draft_factuality(rng: random.Random, item: texts.Fact) -> Draft:
    prompt = _frame(rng, rng.choice(item.questions), texts.FACT_PREFIXES, texts.FACT_SUFFIXES)
    template = rng.choice(item.templates)  # same wording on both sides

    def statement(value: str, full: bool) -> str:
        return _join(
            _maybe(rng, full, rng.choice(texts.FACT_OPENERS), 0.7, 0.2),
            _cap(template.format(x=value)),
            _maybe(rng, full, rng.choice(texts.FACT_CLOSERS), 0.7, 0.2),
        )

    return (
        prompt,
        _candidates(lambda full: statement(item.correct, full)),
        _candidates(lambda full: statement(item.wrong, full)),
    )


def _draft_on_topic(rng: random.Random, item: texts.QAItem) -> Draft:
    prompt = _frame(rng, item.question, texts.QUESTION_PREFIXES, texts.QUESTION_SUFFIXES)

    def focused(full: bool) -> str:
        return _join(
            *item.answer[:2],
            _maybe(rng, full, item.answer[2], 0.9, 0.2),
            _maybe(rng, full, rng.choice(texts.ON_TOPIC_CLOSERS), 0.5, 0.1),
        )

    def drifting(full: bool) -> str:
        (clause, follow_up), (other, _) = rng.sample(texts.DRIFTS, 2)
        transition = rng.choice(texts.DRIFT_TRANSITIONS).format(topic=item.topic)
        more = follow_up if rng.random() < 0.7 else "Also, " + other
        return _join(item.answer[0], transition + clause, _maybe(rng, full, more, 0.8, 0.1))

    return prompt, _candidates(focused), _candidates(drifting)


def _draft_conciseness(rng: random.Random, item: texts.QAItem) -> Draft:
    prompt = _frame(rng, item.question, texts.QUESTION_PREFIXES, texts.QUESTION_SUFFIXES)
    core = list(item.answer[:2]) if rng.random() < 0.35 else [item.answer[0]]
    chosen = _join(rng.choice(texts.CONCISE_OPENERS), *core)

    def fill(options: Sequence[str]) -> str:
        return rng.choice(options).format(topic=item.topic, s0=item.answer[0])

    opening = [fill(texts.PAD_OPENERS)]
    if rng.random() < 0.5:
        opening.append(fill(texts.PAD_MIDDLES))
    closing = [fill(texts.PAD_CLOSERS)] if rng.random() < 0.7 else []
    middle = [core[0], fill(texts.PAD_REPEATS), *core[1:]]
    rejected = _join(*opening, *middle, *closing)
    while len(rejected) > _MAX_CHARS and (len(opening) > 1 or closing):
        if len(opening) > 1:
            opening.pop()
        else:
            closing.pop()
        rejected = _join(*opening, *middle, *closing)
    return prompt, [chosen], [rejected]


# ---------------------------------------------------------------------------------------
# assembly
# ---------------------------------------------------------------------------------------
@dataclass
class _Seen:
    prompts: set[str] = field(default_factory=set)
    chosen: set[str] = field(default_factory=set)
    triples: set[tuple[str, str, str]] = field(default_factory=set)


def _build_category(
    name: str,
    rng: random.Random,
    items: Sequence[Any],
    draft: Callable[[random.Random, Any], Draft],
    seen: _Seen,
) -> list[dict]:
    """Draft ``PAIRS_PER_CATEGORY`` pairs, cycling through ``items`` in a shuffled order and
    redrawing wordings until the prompt and chosen response are new (where possible)."""
    order = list(items)
    rng.shuffle(order)
    n_longer = round(PAIRS_PER_CATEGORY * _CHOSEN_LONGER_RATE[name])
    targets = [True] * n_longer + [False] * (PAIRS_PER_CATEGORY - n_longer)
    rng.shuffle(targets)  # exactly n_longer pairs aim for "chosen is longer"
    pairs: list[dict] = []
    cursor = 0
    while len(pairs) < PAIRS_PER_CATEGORY:
        item = order[cursor % len(order)]
        cursor += 1
        chosen_longer = targets[len(pairs)]
        for attempt in range(_MAX_ATTEMPTS):
            prompt, chosen_opts, rejected_opts = draft(rng, item)
            chosen, rejected = _pick_by_length(rng, chosen_opts, rejected_opts, chosen_longer)
            triple = (prompt, chosen, rejected)
            fresh = prompt not in seen.prompts and chosen not in seen.chosen
            if triple not in seen.triples and (fresh or attempt == _MAX_ATTEMPTS - 1):
                break
        else:
            continue  # even the last draft repeated an earlier triple: move to the next item
        seen.prompts.add(prompt)
        seen.chosen.add(chosen)
        seen.triples.add(triple)
        pairs.append(
            {
                "prompt": [{"role": "user", "content": prompt}],
                "chosen": chosen,
                "rejected": rejected,
                "category": name,
                "split": "train",
            }
        )
    return pairs


def _assign_split(pairs: list[dict], rng: random.Random, test_fraction: float) -> None:
    """Mark ``round(len * test_fraction)`` pairs as test (at least one of each split when
    ``0 < test_fraction < 1``)."""
    n_test = round(len(pairs) * test_fraction)
    if 0 < test_fraction < 1:
        n_test = min(max(n_test, 1), len(pairs) - 1)
    for index in rng.sample(range(len(pairs)), n_test):
        pairs[index]["split"] = "test"


def build_demo_pairs(seed: int = 0, test_fraction: float = 0.2) -> list[dict]:
    """Build the demo preference pairs for ``seed``.

    Each dict: ``{"prompt": [{"role": "user", "content": str}], "chosen": str,
    "rejected": str, "category": str, "split": "train" | "test"}``. The same seed always
    gives the same list; ``test_fraction`` of each category (rounded) is marked "test".
    """
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    qa_items = list(texts.QA_ITEMS)
    _sub_rng(seed, "qa-assignment").shuffle(qa_items)
    third = len(qa_items) // 3
    sources: dict[str, tuple[Sequence[Any], Callable[[random.Random, Any], Draft]]] = {
        "safety": (texts.SAFETY_REQUESTS, _draft_safety),
        "helpfulness": (qa_items[:third], _draft_helpfulness),
        "factuality": (texts.FACTS, _draft_factuality),
        "on_topic": (qa_items[third : 2 * third], _draft_on_topic),
        "conciseness": (qa_items[2 * third :], _draft_conciseness),
    }
    seen = _Seen()
    pairs: list[dict] = []
    for name in CATEGORIES:
        items, draft = sources[name]
        category_pairs = _build_category(name, _sub_rng(seed, name), items, draft, seen)
        _assign_split(category_pairs, _sub_rng(seed, f"split/{name}"), test_fraction)
        pairs.extend(category_pairs)
    _sub_rng(seed, "order").shuffle(pairs)
    return pairs


def write_demo_dataset(path: str | Path, seed: int = 0, test_fraction: float = 0.2) -> Path:
    """Write :func:`build_demo_pairs` as JSON Lines (UTF-8, one pair per line) to ``path``
    and return it as a :class:`~pathlib.Path`. Parent folders are created if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for pair in build_demo_pairs(seed=seed, test_fraction=test_fraction):
            handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
    return path
