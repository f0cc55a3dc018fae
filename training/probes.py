"""Counterfactual edits of a response: a named, data-driven suite.

An edit is one JSON object with a ``name``, a ``description`` and an ``op``:

- ``{"op": "append", "text": "..."}`` and ``{"op": "prepend", "text": "..."}``;
- ``{"op": "replace", "old": "...", "new": "..."}`` (every occurrence, plain text);
- ``{"op": "regex", "pattern": "...", "replacement": "...", "count": 0, "flags": "i"}``
  (Python ``re.sub``; ``count`` 0 means every match; flags from ``i``, ``m``, ``s``);
- ``{"op": "builtin", "builtin": "first_half"}`` for what a pattern cannot say:
  ``first_half``, ``repeat_last_sentence``, ``strip_punctuation``, ``markdown_structure``.

The shipped suite is ``training/data/probe_edits.json`` (``{"edits": [...]}``); a user
adds edits with a file in the same format (``preflens probe --edits-file FILE``), no code
needed. The edit named ``original`` is reserved: it is the unedited response.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from preflens.errors import DataFormatError

ORIGINAL = "original"
OPS = ("append", "prepend", "replace", "regex", "builtin")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,99}$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


def sentences(text: str) -> list[str]:
    """The text split after ``.``, ``!`` or ``?`` followed by white space (a heuristic)."""
    return [s for s in SENTENCE_END.split(text.strip()) if s]


def first_half(text: str) -> str:
    """The first half of the words (rounded up), joined by single spaces."""
    words = text.split()
    return " ".join(words[: math.ceil(len(words) / 2)])


def repeat_last_sentence(text: str) -> str:
    """The text with its last sentence said once more at the end."""
    parts = sentences(text)
    if not parts:
        return text
    return text.rstrip() + " " + parts[-1]


def strip_punctuation(text: str) -> str:
    """The text without any Unicode punctuation character (categories P*)."""
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))


def markdown_structure(text: str) -> str:
    """A markdown header, then one bullet per sentence."""
    bullets = "\n".join(f"- {s}" for s in sentences(text)) or "- "
    return f"## Answer\n\n{bullets}"


BUILTINS: dict[str, Callable[[str], str]] = {
    "first_half": first_half,
    "repeat_last_sentence": repeat_last_sentence,
    "strip_punctuation": strip_punctuation,
    "markdown_structure": markdown_structure,
}


@dataclass(frozen=True)
class Edit:
    """One named edit; ``apply`` turns a response into its edited version."""

    name: str
    op: str
    description: str = ""
    text: str = ""
    old: str = ""
    new: str = ""
    pattern: str = ""
    replacement: str = ""
    count: int = 0
    flags: str = ""
    builtin: str = ""

    def apply(self, response: str) -> str:
        if self.op == "append":
            return response + self.text
        if self.op == "prepend":
            return self.text + response
        if self.op == "replace":
            return response.replace(self.old, self.new)
        if self.op == "regex":
            flags = 0
            for f in self.flags:
                flags |= FLAGS[f]
            return re.sub(self.pattern, self.replacement, response, count=self.count, flags=flags)
        return BUILTINS[self.builtin](response)

    def as_dict(self) -> dict[str, Any]:
        """The edit as stored in a run's config (only the fields its op uses)."""
        keep = {
            "append": ("text",),
            "prepend": ("text",),
            "replace": ("old", "new"),
            "regex": ("pattern", "replacement", "count", "flags"),
            "builtin": ("builtin",),
        }[self.op]
        d = asdict(self)
        return {"name": self.name, "op": self.op, "description": self.description} | {
            k: d[k] for k in keep
        }


def parse_edit(raw: Any, where: str) -> Edit:
    """Validate one edit object; ``DataFormatError`` says what is wrong and where."""
    if not isinstance(raw, dict):
        raise DataFormatError(f"{where}: an edit is a JSON object, got {type(raw).__name__}")
    name, op = raw.get("name"), raw.get("op")
    if not isinstance(name, str) or not NAME_RE.match(name) or name == ORIGINAL:
        raise DataFormatError(
            f"{where}: name {name!r} must be lowercase letters, digits, '_' or '-' "
            f"(at most 100) and not {ORIGINAL!r}"
        )
    if op not in OPS:
        raise DataFormatError(f"{where} ({name}): op {op!r} is not one of {', '.join(OPS)}")
    fields = {f: raw[f] for f in raw if f not in ("name", "op")}
    allowed = set(Edit.__dataclass_fields__) - {"name", "op"}
    unknown = set(fields) - allowed
    if unknown:
        raise DataFormatError(f"{where} ({name}): unknown fields {sorted(unknown)}")
    need = {
        "append": ("text",),
        "prepend": ("text",),
        "replace": ("old", "new"),
        "regex": ("pattern", "replacement"),
        "builtin": ("builtin",),
    }[op]
    missing = [f for f in need if not isinstance(fields.get(f), str)]
    if missing:
        raise DataFormatError(f"{where} ({name}): op {op!r} needs text fields {missing}")
    if op == "replace" and not fields["old"]:
        raise DataFormatError(f"{where} ({name}): 'old' must not be empty")
    if op == "builtin" and fields["builtin"] not in BUILTINS:
        raise DataFormatError(
            f"{where} ({name}): builtin {fields['builtin']!r} is not one of {', '.join(BUILTINS)}"
        )
    if op == "regex":
        if not isinstance(fields.get("count", 0), int) or fields.get("count", 0) < 0:
            raise DataFormatError(f"{where} ({name}): count must be an integer >= 0")
        bad = set(str(fields.get("flags", ""))) - set(FLAGS)
        if bad:
            raise DataFormatError(f"{where} ({name}): unknown regex flags {sorted(bad)}")
        try:
            re.compile(fields["pattern"])
        except re.error as exc:
            raise DataFormatError(f"{where} ({name}): bad pattern: {exc}") from exc
    return Edit(name=name, op=op, **fields)


def parse_edits(data: Any, where: str) -> list[Edit]:
    """``{"edits": [...]}`` (or a bare list) into edits; names must be unique."""
    items = data.get("edits") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise DataFormatError(f'{where}: expected {{"edits": [...]}} or a list of edits')
    edits = [parse_edit(item, f"{where} edit {i}") for i, item in enumerate(items)]
    names = [e.name for e in edits]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataFormatError(f"{where}: edit names given twice: {dupes}")
    return edits


def load_edits_file(path: str | Path) -> list[Edit]:
    """Edits from a JSON file in the suite's format."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataFormatError(f"cannot read edits file {p}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"edits file {p} is not JSON: {exc}") from exc
    return parse_edits(data, str(p))


def default_edits() -> list[Edit]:
    """The shipped suite (package data ``training/data/probe_edits.json``)."""
    text = resources.files("training").joinpath("data/probe_edits.json").read_text("utf-8")
    return parse_edits(json.loads(text), "probe_edits.json")


def select_edits(
    names: Sequence[str] | None = None, edits_file: str | Path | None = None
) -> list[Edit]:
    """The shipped suite plus a user's file (whose edits replace shipped ones of the same
    name), narrowed to ``names`` in the order given (None: all)."""
    suite = {e.name: e for e in default_edits()}
    if edits_file is not None:
        suite.update({e.name: e for e in load_edits_file(edits_file)})
    if not names:
        return list(suite.values())
    unknown = [n for n in names if n not in suite]
    if unknown:
        raise DataFormatError(f"unknown edits {unknown}; known: {', '.join(suite)}")
    return [suite[n] for n in dict.fromkeys(names)]


def edits_hash(edits: Iterable[Edit]) -> str:
    """A hash of the edits' definitions (a changed edit makes a new probe run)."""
    blob = json.dumps([e.as_dict() for e in edits], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def apply_all(edits: Sequence[Edit], response: str) -> dict[str, str]:
    """{edit name: edited text}, the unedited response first as ``original``."""
    return {ORIGINAL: response} | {e.name: e.apply(response) for e in edits}
