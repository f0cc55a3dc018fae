"""Dataset layouts: one small reader per layout, registered by name, auto-detected.

Each reader turns one source row (a dict) into a ``PairRecord`` or raises ``RowError``
with a reason a person can act on. Prompts are always chat messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from preflens.errors import DataFormatError, RowError

Messages = list[dict[str, str]]
ROLES = {"system", "user", "assistant", "tool"}


@dataclass
class PairRecord:
    prompt: Messages
    chosen: str
    rejected: str
    category: str | None = None
    split: str | None = None


# ---------------------------------------------------------------- field helpers
def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def require(row: Mapping[str, Any], key: str) -> Any:
    if key not in row:
        raise RowError(f"missing field `{key}`")
    if row[key] is None:
        raise RowError(f"field `{key}` is null")
    return row[key]


def text_field(row: Mapping[str, Any], key: str) -> str:
    value = require(row, key)
    if not isinstance(value, str):
        raise RowError(f"field `{key}` is {_type_name(value)}, expected text")
    if not value.strip():
        raise RowError(f"empty text in `{key}`")
    return value


def label_field(row: Mapping[str, Any], key: str, allowed: tuple[int, ...]) -> int:
    """An integer label (also from CSV text such as "1"), checked against ``allowed``."""
    value = require(row, key)
    if isinstance(value, bool):
        raise RowError(f"field `{key}` is bool, expected one of {allowed}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value not in allowed:
        shown = ", ".join(map(str, allowed[:-1])) + f" or {allowed[-1]}"
        raise RowError(f"invalid label: `{key}` is {value!r}, expected {shown}")
    return value


def messages_field(row: Mapping[str, Any], key: str) -> Messages:
    """A prompt given either as text or as a list of {role, content} messages."""
    value = require(row, key)
    if isinstance(value, str):
        if not value.strip():
            raise RowError(f"empty text in `{key}`")
        return [{"role": "user", "content": value}]
    return as_messages(value, key)


def as_messages(value: Any, key: str) -> Messages:
    if not isinstance(value, list) or not value:
        raise RowError(f"field `{key}` is {_type_name(value)}, expected a list of messages")
    out = []
    for i, m in enumerate(value):
        if not isinstance(m, Mapping) or not isinstance(m.get("content"), str):
            raise RowError(f"`{key}`[{i}] is not a message with text `content`")
        if m.get("role") not in ROLES:
            raise RowError(
                f"`{key}`[{i}] has role {m.get('role')!r}, expected one of {sorted(ROLES)}"
            )
        out.append({"role": str(m["role"]), "content": m["content"]})
    return out


def finish(prompt: Messages, chosen: str, rejected: str, **extra: Any) -> PairRecord:
    """Checks every layout shares: non-empty prompt and responses that differ."""
    if not prompt or not any(m["content"].strip() for m in prompt):
        raise RowError("empty prompt")
    for side, text in (("chosen", chosen), ("rejected", rejected)):
        if not text.strip():
            raise RowError(f"empty response ({side})")
    if chosen.strip() == rejected.strip():
        raise RowError("identical responses")
    return PairRecord(prompt, chosen.strip(), rejected.strip(), **extra)


def optional_str(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    return None if value is None or value == "" else str(value)


# ---------------------------------------------------------------- readers
@dataclass
class Reader:
    name: str
    description: str
    required: frozenset[str]
    read: Callable[[Mapping[str, Any]], PairRecord]
    # Extra check on sample rows, for layouts that share column names.
    accepts: Callable[[list[Mapping[str, Any]]], bool] = field(default=lambda rows: True)

    def matches(self, columns: set[str], sample: list[Mapping[str, Any]]) -> bool:
        return self.required <= columns and self.accepts(sample)


def read_pku(row: Mapping[str, Any], prefer: str = "helpful") -> PairRecord:
    prompt = text_field(row, "prompt")
    responses = (text_field(row, "response_0"), text_field(row, "response_1"))
    key = "better_response_id" if prefer == "helpful" else "safer_response_id"
    better = label_field(row, key, (0, 1))
    safe = (row.get("is_response_0_safe"), row.get("is_response_1_safe"))
    category = None
    if all(isinstance(s, bool) for s in safe):
        category = {2: "both-safe", 1: "one-safe", 0: "both-unsafe"}[sum(safe)]
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
        category=optional_str(row, "category"),
    )


_TURN = re.compile(r"\n\n(Human|Assistant):")


def parse_hh(transcript: str, key: str) -> Messages:
    """Split an HH-RLHF transcript into messages ("\\n\\nHuman:" / "\\n\\nAssistant:")."""
    parts = _TURN.split(transcript)
    if parts[0].strip() or len(parts) < 3:
        raise RowError(f"`{key}` is not a Human/Assistant transcript")
    roles = {"Human": "user", "Assistant": "assistant"}
    return [
        {"role": roles[parts[i]], "content": parts[i + 1].strip()} for i in range(1, len(parts), 2)
    ]


def read_hh(row: Mapping[str, Any]) -> PairRecord:
    chosen = parse_hh(text_field(row, "chosen"), "chosen")
    rejected = parse_hh(text_field(row, "rejected"), "rejected")
    for side, conv in (("chosen", chosen), ("rejected", rejected)):
        if conv[-1]["role"] != "assistant":
            raise RowError(f"`{side}` does not end with an Assistant turn")
    if chosen[:-1] != rejected[:-1]:
        raise RowError("prompt prefixes differ between `chosen` and `rejected`")
    return finish(
        chosen[:-1],
        chosen[-1]["content"],
        rejected[-1]["content"],
        category=optional_str(row, "category"),
    )


def _completion(value: Any, key: str) -> str:
    if isinstance(value, str):
        if not value.strip():
            raise RowError(f"empty response ({key})")
        return value
    msgs = as_messages(value, key)
    if msgs[-1]["role"] != "assistant":
        raise RowError(f"`{key}` does not end with an assistant message")
    return msgs[-1]["content"]


def read_trl(row: Mapping[str, Any]) -> PairRecord:
    extra = {"category": optional_str(row, "category"), "split": optional_str(row, "split")}
    chosen_raw, rejected_raw = require(row, "chosen"), require(row, "rejected")
    if row.get("prompt") is not None:  # explicit prompt
        prompt = messages_field(row, "prompt")
        return finish(
            prompt,
            _completion(chosen_raw, "chosen"),
            _completion(rejected_raw, "rejected"),
            **extra,
        )
    # Implicit prompt: the shared prefix of two conversations.
    chosen, rejected = as_messages(chosen_raw, "chosen"), as_messages(rejected_raw, "rejected")
    if chosen[:-1] != rejected[:-1]:
        raise RowError("prompt prefixes differ between `chosen` and `rejected`")
    if chosen[-1]["role"] != "assistant" or rejected[-1]["role"] != "assistant":
        raise RowError("conversations must end with an assistant message")
    return finish(chosen[:-1], chosen[-1]["content"], rejected[-1]["content"], **extra)


def _hh_like(rows: list[Mapping[str, Any]]) -> bool:
    return bool(rows) and all(
        isinstance(r.get("chosen"), str) and "\n\nHuman:" in r["chosen"] and "prompt" not in r
        for r in rows
    )


def _trl_like(rows: list[Mapping[str, Any]]) -> bool:
    return not _hh_like(rows)


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
            _completion(require(row, mapping["chosen"]), mapping["chosen"]),
            _completion(require(row, mapping["rejected"]), mapping["rejected"]),
            category=optional_str(row, mapping.get("category", "")),
            split=optional_str(row, mapping.get("split", "")),
        )

    return Reader("mapping", "any layout, through --map", frozenset(mapping.values()), read)


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
            _trl_like,
        ),
    }


FORMAT_NAMES = ("pku-saferlhf", "align-anything", "hh-rlhf", "trl", "mapping")


def detect(sample: list[Mapping[str, Any]], readers: Mapping[str, Reader]) -> Reader:
    """Pick the one reader whose layout fits the sample rows; explain otherwise."""
    columns: set[str] = set()
    for row in sample:
        columns |= set(row)
    found = [r for r in readers.values() if r.matches(columns, sample)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        names = ", ".join(r.name for r in found)
        raise DataFormatError(f"the layout is ambiguous (fits {names}); pass --format NAME")
    known = "; ".join(f"{r.name}: {r.description}" for r in readers.values())
    raise DataFormatError(
        f"no known layout fits the columns {sorted(columns)}. Known layouts: {known}. "
        "For any other layout pass --format mapping --map prompt=COL --map chosen=COL "
        "--map rejected=COL"
    )


def choose_reader(
    sample: Iterable[Mapping[str, Any]],
    fmt: str | None = None,
    prefer: str = "helpful",
    mapping: Mapping[str, str] | None = None,
) -> Reader:
    """The reader named by ``fmt`` (or by a mapping), else the detected one."""
    if mapping or fmt == "mapping":
        return mapping_reader(mapping or {})
    readers = make_readers(prefer)
    if fmt is None:
        return detect(list(sample), readers)
    if fmt not in readers:
        raise DataFormatError(f"unknown format {fmt!r}; choose one of {', '.join(FORMAT_NAMES)}")
    return readers[fmt]
