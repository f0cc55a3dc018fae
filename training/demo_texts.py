"""Text tables behind :mod:`training.demo_data` (the demo preference set), read from the
package data file ``training/data/demo_texts.json``.

The file holds plain data written for the demo: everyday questions with short answers,
harmful requests with a refusal side and a deliberately vague "compliance" side, a table of
real facts with a plausible wrong alternative for each, off-topic digressions and filler
phrases. The builders that combine them live in :mod:`training.demo_data`.

Placeholders: ``{topic}`` is replaced by an item's topic, ``{x}`` by the fact's answer,
``{s0}`` by the first answer sentence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class QAItem:
    """An everyday question: ``answer[0]`` answers it directly, the rest add detail."""

    topic: str
    question: str
    answer: tuple[str, ...]


@dataclass(frozen=True)
class HarmfulRequest:
    """A harmful request with material for a refusal and for a vague compliance."""

    asks: tuple[str, ...]
    what: str  # noun phrase used in "I can't help with {what}."
    alternatives: tuple[str, ...]  # safe alternatives offered by the refusal
    compliance: tuple[str, ...]  # plausible but non-operational "help"


@dataclass(frozen=True)
class Fact:
    """A factual question; ``templates`` contain ``{x}`` for the answer."""

    questions: tuple[str, ...]
    templates: tuple[str, ...]
    correct: str
    wrong: str


def _tuples(value: Any) -> Any:
    """JSON lists back to the tuples the builders expect (nested lists too)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _record(cls: type, item: dict[str, Any]) -> Any:
    return cls(**{k: _tuples(v) for k, v in item.items()})


_DATA = json.loads(resources.files("training").joinpath("data/demo_texts.json").read_text("utf-8"))

QA_ITEMS: tuple[QAItem, ...] = tuple(_record(QAItem, i) for i in _DATA["QA_ITEMS"])
SAFETY_REQUESTS: tuple[HarmfulRequest, ...] = tuple(
    _record(HarmfulRequest, i) for i in _DATA["SAFETY_REQUESTS"]
)
FACTS: tuple[Fact, ...] = tuple(_record(Fact, i) for i in _DATA["FACTS"])
DRIFTS: tuple[tuple[str, str], ...] = _tuples(_DATA["DRIFTS"])

QUESTION_PREFIXES: tuple[str, ...] = _tuples(_DATA["QUESTION_PREFIXES"])
QUESTION_SUFFIXES: tuple[str, ...] = _tuples(_DATA["QUESTION_SUFFIXES"])
HELPFUL_OPENERS: tuple[str, ...] = _tuples(_DATA["HELPFUL_OPENERS"])
HELPFUL_CLOSERS: tuple[str, ...] = _tuples(_DATA["HELPFUL_CLOSERS"])
EVASIONS: tuple[str, ...] = _tuples(_DATA["EVASIONS"])
EVASION_OPENERS: tuple[str, ...] = _tuples(_DATA["EVASION_OPENERS"])
DRIFT_TRANSITIONS: tuple[str, ...] = _tuples(_DATA["DRIFT_TRANSITIONS"])
ON_TOPIC_CLOSERS: tuple[str, ...] = _tuples(_DATA["ON_TOPIC_CLOSERS"])
CONCISE_OPENERS: tuple[str, ...] = _tuples(_DATA["CONCISE_OPENERS"])
PAD_OPENERS: tuple[str, ...] = _tuples(_DATA["PAD_OPENERS"])
PAD_MIDDLES: tuple[str, ...] = _tuples(_DATA["PAD_MIDDLES"])
PAD_REPEATS: tuple[str, ...] = _tuples(_DATA["PAD_REPEATS"])
PAD_CLOSERS: tuple[str, ...] = _tuples(_DATA["PAD_CLOSERS"])
SAFETY_PREFIXES: tuple[str, ...] = _tuples(_DATA["SAFETY_PREFIXES"])
SAFETY_SUFFIXES: tuple[str, ...] = _tuples(_DATA["SAFETY_SUFFIXES"])
REFUSAL_OPENERS: tuple[str, ...] = _tuples(_DATA["REFUSAL_OPENERS"])
REFUSAL_REASONS: tuple[str, ...] = _tuples(_DATA["REFUSAL_REASONS"])
REFUSAL_CLOSERS: tuple[str, ...] = _tuples(_DATA["REFUSAL_CLOSERS"])
COMPLY_OPENERS: tuple[str, ...] = _tuples(_DATA["COMPLY_OPENERS"])
COMPLY_CLOSERS: tuple[str, ...] = _tuples(_DATA["COMPLY_CLOSERS"])
FACT_PREFIXES: tuple[str, ...] = _tuples(_DATA["FACT_PREFIXES"])
FACT_SUFFIXES: tuple[str, ...] = _tuples(_DATA["FACT_SUFFIXES"])
FACT_OPENERS: tuple[str, ...] = _tuples(_DATA["FACT_OPENERS"])
FACT_CLOSERS: tuple[str, ...] = _tuples(_DATA["FACT_CLOSERS"])
