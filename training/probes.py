"""Counterfactual edits of a response: a named, data-driven suite.

An edit is one JSON object with a ``name``, a ``description`` and an ``op``:

- ``{"op": "append", "text": "..."}`` and ``{"op": "prepend", "text": "..."}``;
- ``{"op": "replace", "old": "...", "new": "..."}`` (every occurrence, plain text);
- ``{"op": "regex", "pattern": "...", "replacement": "...", "count": 0, "flags": "i"}``
  (``re.sub`` semantics; ``count`` 0 means every match; flags from ``i``, ``m``, ``s``);
- ``{"op": "builtin", "builtin": "first_half"}`` for what a pattern cannot say:
  ``first_half``, ``repeat_last_sentence``, ``strip_punctuation``, ``markdown_structure``.

The shipped suite is ``training/data/probe_edits.json`` (``{"edits": [...]}``); a user
adds edits with a file in the same format (``preflens probe --edits-file FILE``), no code
needed. The edit named ``original`` is reserved: it is the unedited response.

Edits come from users (an edits file, an HTTP body), so they are checked when parsed and
bounded when applied:

- fields are at most ``MAX_FIELD_CHARS`` characters (a pattern ``MAX_PATTERN_CHARS``) and
  hold no NUL; a pattern must compile and a replacement must be a valid ``re`` template
  (``\\9`` without a group 9, ``\\q``, ``\\u`` and ``\\x`` escapes are refused);
- a pattern runs on the ``regex`` module (same syntax as ``re``, VERSION0) because it takes
  a ``timeout``: a catastrophically backtracking pattern such as ``(a+)+$`` is stopped
  after ``REGEX_TIMEOUT_S`` instead of running for minutes. A linear-time engine (RE2)
  would refuse back-references and look-arounds that users' edits may rely on; a time
  limit keeps the full syntax;
- an edited text's length is checked as it is produced (``replace`` computes the result's
  length before building it, ``regex`` adds up each match's expansion), so an edit cannot
  build a text larger than the caller's ``max_chars`` on the way to being refused.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from preflens.errors import DataFormatError

ORIGINAL = "original"
OPS = ("append", "prepend", "replace", "regex", "builtin")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,99}$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
FLAGS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL}
TEXT_FIELDS = ("description", "text", "old", "new", "pattern", "replacement", "builtin")
MAX_FIELD_CHARS = 10_000  # characters per text field of an edit
MAX_PATTERN_CHARS = 1_000
MAX_EDITED_CHARS = 200_000  # the default cap of one edited text (the API passes its own)
REGEX_TIMEOUT_S = 0.5  # per application of a regex edit to one text
MAX_EDITS = 200  # edits in one file or list


class EditError(DataFormatError):
    """An edit cannot be applied to a text: it ran past its time limit or would make
    the text longer than allowed."""

    reason = "edit failed"  # how a probe job names a pair it skips for this


class EditTimeout(EditError):
    """A regex edit ran past its time limit on one text."""

    reason = "edit timed out"


class EditTooLong(EditError):
    """An edit would make one text longer than allowed."""

    reason = "edited text too long"


def _too_long(name: str, n: int, max_chars: int) -> EditError:
    return EditTooLong(
        f"edit {name!r} would make a text of {n} characters; the limit is {max_chars}"
    )


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

    def apply(
        self,
        response: str,
        max_chars: int = MAX_EDITED_CHARS,
        timeout_s: float = REGEX_TIMEOUT_S,
    ) -> str:
        """The edited text; ``EditError`` when it would exceed ``max_chars`` characters
        (checked before or while the text is built) or a regex runs past ``timeout_s``."""
        if self.op in ("append", "prepend"):
            n = len(response) + len(self.text)
            if n > max_chars:
                raise _too_long(self.name, n, max_chars)
            return response + self.text if self.op == "append" else self.text + response
        if self.op == "replace":
            # The result's length is known before it is built: count x growth.
            n = len(response) + response.count(self.old) * (len(self.new) - len(self.old))
            if n > max_chars:
                raise _too_long(self.name, n, max_chars)
            return response.replace(self.old, self.new)
        if self.op == "regex":
            return self._regex(response, max_chars, timeout_s)
        out = BUILTINS[self.builtin](response)  # builtins at most triple a text
        if len(out) > max_chars:
            raise _too_long(self.name, len(out), max_chars)
        return out

    def _regex(self, response: str, max_chars: int, timeout_s: float) -> str:
        flags = regex.VERSION0
        for f in self.flags:
            flags |= FLAGS[f]
        compiled = regex.compile(self.pattern, flags)
        literal = "\\" not in self.replacement  # no escapes or groups: the text as it is
        size = len(response)

        def expand(m: regex.Match) -> str:
            nonlocal size
            piece = self.replacement if literal else m.expand(self.replacement)
            size += len(piece) - (m.end() - m.start())
            if size > max_chars:  # refused at the match that crosses the limit
                raise _too_long(self.name, size, max_chars)
            return piece

        try:
            return compiled.sub(expand, response, count=self.count, timeout=timeout_s)
        except TimeoutError:
            raise EditTimeout(
                f"edit {self.name!r}: pattern {self.pattern[:60]!r} ran past its time limit "
                f"of {timeout_s:g} s on a text of {len(response)} characters"
            ) from None

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
    _check_text_fields(fields, f"{where} ({name})")
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
        _check_regex(fields["pattern"], fields["replacement"], f"{where} ({name})")
    return Edit(name=name, op=op, **fields)


def _check_text_fields(fields: dict[str, Any], where: str) -> None:
    """Text fields are strings, bounded, and hold no NUL (no tokenizer or store takes it)."""
    for key in TEXT_FIELDS:
        if key not in fields:
            continue
        value = fields[key]
        if not isinstance(value, str):
            raise DataFormatError(f"{where}: {key!r} must be text, got {type(value).__name__}")
        limit = MAX_PATTERN_CHARS if key == "pattern" else MAX_FIELD_CHARS
        if len(value) > limit:
            raise DataFormatError(f"{where}: {key!r} has {len(value)} characters; at most {limit}")
        if "\x00" in value:
            raise DataFormatError(f"{where}: {key!r} contains a NUL character")


def _check_regex(pattern: str, replacement: str, where: str) -> None:
    """The pattern compiles (in ``re`` and in the ``regex`` engine that runs it) and the
    replacement is a valid ``re`` template for it (group references exist; ``\\q``,
    ``\\u``, ``\\x`` and other unknown escapes are refused); its expansion has no NUL."""
    try:
        compiled = re.compile(pattern)
        regex.compile(pattern, regex.VERSION0)
    except (re.error, regex.error) as exc:
        raise DataFormatError(f"{where}: bad pattern: {exc}") from None
    except RecursionError:
        raise DataFormatError(f"{where}: bad pattern: nested too deeply") from None
    try:
        # An empty text has no match, but ``re`` parses the template anyway.
        compiled.sub(replacement, "")
    except (re.error, IndexError) as exc:
        raise DataFormatError(f"{where}: bad replacement {replacement[:60]!r}: {exc}") from None
    names = {i: n for n, i in compiled.groupindex.items()}
    empty = re.compile(
        "".join(f"(?P<{names[i]}>)" if i in names else "()" for i in range(1, compiled.groups + 1))
    )
    if "\x00" in empty.sub(replacement, "", count=1):
        raise DataFormatError(f"{where}: bad replacement: it inserts a NUL character")


def parse_edits(data: Any, where: str) -> list[Edit]:
    """``{"edits": [...]}`` (or a bare list) into edits; names must be unique."""
    items = data.get("edits") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise DataFormatError(f'{where}: expected {{"edits": [...]}} or a list of edits')
    if len(items) > MAX_EDITS:
        raise DataFormatError(f"{where}: {len(items)} edits; at most {MAX_EDITS}")
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


def apply_all(
    edits: Sequence[Edit],
    response: str,
    max_chars: int = MAX_EDITED_CHARS,
    timeout_s: float = REGEX_TIMEOUT_S,
    deadline: float | None = None,
) -> dict[str, str]:
    """{edit name: edited text}, the unedited response first as ``original``; each edited
    text bounded by ``max_chars``, each regex edit by ``timeout_s`` and all of them by
    ``deadline`` (a ``time.monotonic()`` value shared by a caller's calls): ``EditError``."""
    out = {ORIGINAL: response}
    for e in edits:
        limit = timeout_s
        if deadline is not None:
            limit = min(limit, deadline - time.monotonic())
            if limit <= 0:
                raise EditTimeout(
                    f"the edits ran past their shared time limit before edit {e.name!r}"
                )
        out[e.name] = e.apply(response, max_chars, limit)
    return out
