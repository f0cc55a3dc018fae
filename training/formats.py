"""Dataset layouts: one small reader per layout, registered by name, auto-detected.

Each reader turns one source row (a dict) into a ``PairRecord`` or raises ``RowError``
with a reason a person can act on. Prompts are always chat messages. Detection looks at
the first rows and goes by the majority, so a few bad rows among them never change the
layout: the layout whose columns most rows have wins; layouts with the same columns
(HH-RLHF transcripts and TRL prompt/chosen/rejected) are told apart by how many rows
each can actually read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from preflens.errors import DataFormatError, RowError
from training.readers.conversations import (
    Messages,
    completion,
    messages_field,
    parse_hh,
    split_conversation,
    split_hh,
)
from training.readers.fields import (
    CATEGORY_MAX,
    MAX_PAIR_CHARS,
    SOURCE_ID_MAX,
    SPLIT_MAX,
    flag_field,
    is_blank,
    label_field,
    optional_text,
    require,
    storable,
    text_field,
)

__all__ = ["FORMAT_NAMES", "PairRecord", "Reader", "choose_reader", "detect", "parse_hh"]


@dataclass
class PairRecord:
    prompt: Messages
    chosen: str
    rejected: str
    category: str | None = None
    split: str | None = None
    source_id: str | None = None  # the row's own ``id`` column, when it has one


def finish(prompt: Messages, chosen: str, rejected: str, **extra: Any) -> PairRecord:
    """Checks every layout shares: a prompt and two responses that show something and
    differ, within ``MAX_PAIR_CHARS`` in all. Responses are stored without surrounding
    whitespace."""
    if not prompt or all(is_blank(m["content"]) for m in prompt):
        raise RowError("empty prompt")
    for side, text in (("chosen", chosen), ("rejected", rejected)):
        if is_blank(text):
            raise RowError(f"empty response ({side})")
    if chosen.strip() == rejected.strip():
        raise RowError("identical responses")
    size = sum(len(m["content"]) for m in prompt) + len(chosen) + len(rejected)
    if size > MAX_PAIR_CHARS:
        raise RowError(
            f"pair is {size:,} characters long (prompt and both responses), over the "
            f"limit of {MAX_PAIR_CHARS:,}"
        )
    return PairRecord(prompt, chosen.strip(), rejected.strip(), **extra)


def _extra(row: Mapping[str, Any], category: str = "category", split: str = "split") -> dict:
    return {
        "category": optional_text(row, category, CATEGORY_MAX),
        "split": optional_text(row, split, SPLIT_MAX),
        "source_id": source_id(row),
    }


def source_id(row: Mapping[str, Any]) -> str | None:
    """The row's ``id`` as text (a string or an integer), kept so results made elsewhere
    (RewardBench's per-example scores) can name the pair; anything else is not an id."""
    value = row.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    if not text or len(text) > SOURCE_ID_MAX or storable(text) != text:
        return None
    return text


# ---------------------------------------------------------------- readers
@dataclass
class Reader:
    name: str
    description: str
    required: frozenset[str]
    read: Callable[[Mapping[str, Any]], PairRecord]
    # Whether one row looks like this layout, for layouts that share column names.
    looks: Callable[[Mapping[str, Any]], bool] = field(default=lambda row: True)

    def fits(self, row: Mapping[str, Any]) -> bool:
        return self.required <= row.keys()

    def reads(self, row: Mapping[str, Any]) -> bool:
        try:
            self.read(row)
        except RowError:
            return False
        return True


def read_pku(row: Mapping[str, Any], prefer: str = "helpful") -> PairRecord:
    prompt = text_field(row, "prompt")
    responses = (text_field(row, "response_0"), text_field(row, "response_1"))
    key = "better_response_id" if prefer == "helpful" else "safer_response_id"
    better = label_field(row, key, (0, 1))
    safe = (flag_field(row, "is_response_0_safe"), flag_field(row, "is_response_1_safe"))
    category = None
    if None not in safe:
        category = {2: "both-safe", 1: "one-safe", 0: "both-unsafe"}[sum(map(bool, safe))]
    return finish(
        [{"role": "user", "content": prompt}],
        responses[better],
        responses[1 - better],
        category=category,
    )


def read_align_anything(row: Mapping[str, Any]) -> PairRecord:
    prompt = text_field(row, "question")
    responses = {1: text_field(row, "response_1"), 2: text_field(row, "response_2")}
    better = label_field(row, "overall_response", (1, 2))
    return finish(
        [{"role": "user", "content": prompt}],
        responses[better],
        responses[3 - better],
        category=optional_text(row, "category", CATEGORY_MAX),
    )


def read_hh(row: Mapping[str, Any]) -> PairRecord:
    prompt, chosen, rejected = split_hh(text_field(row, "chosen"), text_field(row, "rejected"))
    return finish(prompt, chosen, rejected, **_extra(row))


def read_trl(row: Mapping[str, Any]) -> PairRecord:
    extra = _extra(row)
    chosen_raw, rejected_raw = require(row, "chosen"), require(row, "rejected")
    if row.get("prompt") is not None:  # explicit prompt
        prompt = messages_field(row, "prompt")
        return finish(
            prompt, completion(chosen_raw, "chosen"), completion(rejected_raw, "rejected"), **extra
        )
    if isinstance(chosen_raw, str) or isinstance(rejected_raw, str):
        # Text answers need a prompt; only whole conversations carry their own.
        if "prompt" in row:
            raise RowError("field `prompt` is null")
        raise RowError("missing field `prompt` (needed unless chosen/rejected are conversations)")
    # Implicit prompt: what the two conversations share before their answers.
    prompt, chosen = split_conversation(chosen_raw, "chosen")
    rejected_prompt, rejected = split_conversation(rejected_raw, "rejected")
    if prompt != rejected_prompt:
        raise RowError("prompt prefixes differ between `chosen` and `rejected`")
    return finish(prompt, chosen, rejected, **extra)


def _hh_like(row: Mapping[str, Any]) -> bool:
    chosen = row.get("chosen")
    return isinstance(chosen, str) and "Human:" in chosen and row.get("prompt") is None


def mapping_reader(mapping: Mapping[str, str]) -> Reader:
    """A reader for any layout: ``mapping`` names the columns for prompt, chosen, rejected
    (and optionally category and split)."""
    missing = {"prompt", "chosen", "rejected"} - set(mapping)
    unknown = set(mapping) - {"prompt", "chosen", "rejected", "category", "split"}
    if missing or unknown:
        raise DataFormatError(
            "a column mapping needs prompt=COL, chosen=COL and rejected=COL "
            f"(optional: category=COL, split=COL); missing {sorted(missing)}, "
            f"unknown {sorted(unknown)}"
        )

    def read(row: Mapping[str, Any]) -> PairRecord:
        return finish(
            messages_field(row, mapping["prompt"]),
            completion(require(row, mapping["chosen"]), mapping["chosen"]),
            completion(require(row, mapping["rejected"]), mapping["rejected"]),
            **_extra(row, mapping.get("category", ""), mapping.get("split", "")),
        )

    required = frozenset(mapping[k] for k in ("prompt", "chosen", "rejected"))
    return Reader("mapping", "any layout, through --map", required, read)


def make_readers(prefer: str = "helpful") -> dict[str, Reader]:
    """All auto-detectable readers, by name."""
    if prefer not in ("helpful", "safe"):
        raise DataFormatError(f"--prefer is {prefer!r}, expected helpful or safe")
    pku_cols = {"prompt", "response_0", "response_1", "better_response_id", "safer_response_id"}
    return {
        "pku-saferlhf": Reader(
            "pku-saferlhf",
            "PKU-SafeRLHF (response_0/1, better/safer_response_id)",
            frozenset(pku_cols),
            lambda row: read_pku(row, prefer),
        ),
        "align-anything": Reader(
            "align-anything",
            "Align-Anything text-to-text (question, response_1/2, overall_response)",
            frozenset({"question", "response_1", "response_2", "overall_response"}),
            read_align_anything,
        ),
        "hh-rlhf": Reader(
            "hh-rlhf",
            "Anthropic HH-RLHF transcripts (chosen/rejected with Human/Assistant turns)",
            frozenset({"chosen", "rejected"}),
            read_hh,
            _hh_like,
        ),
        "trl": Reader(
            "trl",
            "prompt/chosen/rejected as text or messages (prompt may be implicit)",
            frozenset({"chosen", "rejected"}),
            read_trl,
            lambda row: not _hh_like(row),
        ),
    }


FORMAT_NAMES = ("pku-saferlhf", "align-anything", "hh-rlhf", "trl", "mapping")


def _columns(sample: list[Mapping[str, Any]]) -> str:
    seen: dict[str, None] = {}
    for row in sample:
        seen.update(dict.fromkeys(map(str, row)))
    names = sorted(seen)
    shown = ", ".join(storable(n)[:60] for n in names[:30])
    return shown + (f", ... ({len(names)} in all)" if len(names) > 30 else "")


def detect(sample: list[Mapping[str, Any]], readers: Mapping[str, Reader]) -> Reader:
    """Pick the layout most sample rows fit (see the module docstring); explain otherwise."""
    fits = {name: sum(r.fits(row) for row in sample) for name, r in readers.items()}
    best = max(fits.values(), default=0)
    if best == 0:
        known = "; ".join(f"{r.name}: {r.description}" for r in readers.values())
        raise DataFormatError(
            f"no known layout fits the columns [{_columns(sample)}]. Known layouts: {known}. "
            "For any other layout pass --format mapping --map prompt=COL --map chosen=COL "
            "--map rejected=COL"
        )
    top = [r for r in readers.values() if fits[r.name] == best]
    if len({r.required for r in top}) > 1:
        names = ", ".join(r.name for r in top)
        raise DataFormatError(f"the layout is ambiguous (fits {names}); pass --format NAME")
    if len(top) == 1:
        return top[0]
    ranked = sorted(
        ((sum(map(r.reads, sample)), sum(map(r.looks, sample)), r.name) for r in top),
        reverse=True,
    )
    if ranked[0][:2] == ranked[1][:2]:
        names = ", ".join(name for *_, name in ranked)
        raise DataFormatError(f"the layout is ambiguous (fits {names}); pass --format NAME")
    return readers[ranked[0][2]]


def _check_columns(reader: Reader, sample: list[Mapping[str, Any]], option: str) -> None:
    """A layout or mapping naming columns that no sample row has is an error for the source."""
    if not sample:
        return
    present = set().union(*(row.keys() for row in sample))
    missing = sorted(reader.required - present)
    if missing:
        raise DataFormatError(
            f"{option}: no row among the first {len(sample)} has the column(s) "
            f"{', '.join(map(storable, missing))}; columns seen: [{_columns(sample)}]"
        )


def choose_reader(
    sample: Iterable[Mapping[str, Any]],
    fmt: str | None = None,
    prefer: str = "helpful",
    mapping: Mapping[str, str] | None = None,
) -> Reader:
    """The reader named by ``fmt`` (or by a mapping), else the detected one."""
    sample = list(sample)
    if mapping or fmt == "mapping":
        reader = mapping_reader(mapping or {})
        extra = {v for k, v in (mapping or {}).items() if k in ("category", "split")}
        _check_columns(
            Reader(reader.name, "", reader.required | extra, reader.read), sample, "--map"
        )
        return reader
    readers = make_readers(prefer)
    if fmt is None:
        return detect(sample, readers)
    if fmt not in readers:
        raise DataFormatError(f"unknown format {fmt!r}; choose one of {', '.join(FORMAT_NAMES)}")
    _check_columns(readers[fmt], sample, f"--format {fmt}")
    return readers[fmt]
