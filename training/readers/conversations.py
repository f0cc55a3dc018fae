"""Prompts and responses as chat messages: message lists, completions, HH transcripts.

A response given as messages must be assistant messages only; several are joined with a
blank line (an answer split over messages stays one answer), and any other role in it is
a reason to reject the row: PrefLens stores one answer text per side, and a tool call or
a further user turn cannot be represented in it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from preflens.errors import RowError
from training.readers.fields import check_storable, describe, is_blank, require, show

Messages = list[dict[str, str]]
ROLES = ("assistant", "system", "tool", "user")


def as_messages(value: Any, key: str, expected: str = "a list of messages") -> Messages:
    """A non-empty list of {role, content} messages with known roles and storable text."""
    if not isinstance(value, list):
        raise RowError(f"field `{key}` is {describe(value)}, expected {expected}")
    if not value:
        raise RowError(f"field `{key}` is an empty array, expected {expected}")
    out = []
    for i, m in enumerate(value):
        if not isinstance(m, Mapping):
            raise RowError(f"`{key}`[{i}] is {describe(m)}, expected a message object")
        content, role = m.get("content"), m.get("role")
        if not isinstance(content, str):
            raise RowError(f"`{key}`[{i}] `content` is {describe(content)}, expected text")
        if role not in ROLES:
            raise RowError(
                f"`{key}`[{i}] has role {show(role)}, expected one of {', '.join(ROLES)}"
            )
        out.append({"role": role, "content": check_storable(content, f"`{key}`[{i}] `content`")})
    return out


def messages_field(row: Mapping[str, Any], key: str) -> Messages:
    """A prompt given either as text or as a list of messages."""
    value = require(row, key)
    if isinstance(value, str):
        if is_blank(value):
            raise RowError(f"empty text in `{key}`")
        return [{"role": "user", "content": check_storable(value, f"field `{key}`")}]
    return as_messages(value, key, "text or a list of messages")


def completion(value: Any, key: str) -> str:
    """A response given as text, or as assistant messages (joined by a blank line)."""
    if isinstance(value, str):
        if is_blank(value):
            raise RowError(f"empty response ({key})")
        return check_storable(value, f"field `{key}`")
    messages = as_messages(value, key, "text or a list of assistant messages")
    others = sorted({m["role"] for m in messages} - {"assistant"})
    if others:
        raise RowError(
            f"`{key}` holds {' and '.join(others)} messages; a response must be assistant "
            "messages only"
        )
    return "\n\n".join(m["content"].strip() for m in messages)


def split_conversation(value: Any, key: str) -> tuple[Messages, str]:
    """A whole conversation -> (prompt messages, response): the response is the trailing
    run of assistant messages, the prompt everything before it."""
    messages = as_messages(value, key, "a list of messages (a conversation)")
    cut = len(messages)
    while cut > 0 and messages[cut - 1]["role"] == "assistant":
        cut -= 1
    if cut == len(messages):
        raise RowError(f"`{key}` does not end with an assistant message")
    return messages[:cut], "\n\n".join(m["content"].strip() for m in messages[cut:])


# ---------------------------------------------------------------- HH-RLHF transcripts
_TURN = re.compile(r"\n\n(Human|Assistant):")
_HH_ROLES = {"Human": "user", "Assistant": "assistant"}


def hh_turns(transcript: str, key: str) -> list[tuple[str, str]]:
    """An HH-RLHF transcript as (role, text) turns. Turns alternate, so a marker that
    repeats the previous turn's role ("\\n\\nAssistant:" inside an answer) is text of that
    turn, not a turn of its own."""
    if transcript.lstrip().startswith(("Human:", "Assistant:")):
        transcript = "\n\n" + transcript.lstrip()
    marks = list(_TURN.finditer(transcript))
    if not marks or transcript[: marks[0].start()].strip():
        raise RowError(f"`{key}` is not a Human/Assistant transcript")
    turns: list[tuple[str, str]] = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(transcript)
        body = transcript[mark.end() : end]
        if turns and turns[-1][0] == mark.group(1):
            turns[-1] = (turns[-1][0], turns[-1][1] + mark.group(0) + body)
        else:
            turns.append((mark.group(1), body))
    return [(role, body.strip()) for role, body in turns]


def parse_hh(transcript: str, key: str) -> Messages:
    """An HH-RLHF transcript as chat messages."""
    return [{"role": _HH_ROLES[r], "content": text} for r, text in hh_turns(transcript, key)]


def split_hh(chosen: str, rejected: str) -> tuple[Messages, str, str]:
    """Two HH transcripts -> (shared prompt, chosen answer, rejected answer).

    The prompt is the longest run of turns both share, ending with a Human turn; each
    side must then hold exactly one Assistant turn, its answer.
    """
    c_turns, r_turns = hh_turns(chosen, "chosen"), hh_turns(rejected, "rejected")
    shared = 0
    while shared < min(len(c_turns), len(r_turns)) and c_turns[shared] == r_turns[shared]:
        shared += 1
    while shared and c_turns[shared - 1][0] != "Human":
        shared -= 1
    c_rest, r_rest = c_turns[shared:], r_turns[shared:]
    longer = len(c_rest) > 1 or len(r_rest) > 1
    if not shared or (c_rest and r_rest and c_rest[0] == r_rest[0] and longer):
        # Equal turns after the last shared Human turn: the prompts part later on.
        raise RowError("prompt prefixes differ between `chosen` and `rejected`")
    for side, rest in (("chosen", c_rest), ("rejected", r_rest)):
        if not rest:
            raise RowError(f"`{side}` does not end with an Assistant turn")
        if len(rest) > 1:
            raise RowError(
                f'`{side}` goes on after its answer: the response holds a further "Human:" turn'
            )
    prompt = [{"role": _HH_ROLES[r], "content": text} for r, text in c_turns[:shared]]
    return prompt, c_rest[0][1], r_rest[0][1]
