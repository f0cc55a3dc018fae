"""The hostile corpus of probe edits (tests/data/bad_api/probe_edits.json) sent to
``POST /v1/probe`` and, for the edits refused when parsed, written as an edits file:
every case gets its expected answer, none a 500, and nothing runs for long or grows."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from preflens.errors import DataFormatError
from training.probes import EditError, load_edits_file, parse_edit

CORPUS = Path(__file__).parents[1] / "data" / "bad_api" / "probe_edits.json"
CASES = json.loads(CORPUS.read_text(encoding="utf-8"))["cases"]
PAIR = {"prompt": "Say something.", "chosen": "A fine answer.", "rejected": "No."}


def build(value: Any) -> Any:
    """A corpus value with its {"repeat", "times", "suffix"} texts built."""
    if isinstance(value, dict) and "repeat" in value:
        return value["repeat"] * value["times"] + value.get("suffix", "")
    if isinstance(value, dict):
        return {k: build(v) for k, v in value.items()}
    if isinstance(value, list):
        return [build(v) for v in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hostile_edit_over_http(make_client, case):
    client = make_client()
    body = {**PAIR, "custom_edits": build(case["custom_edits"])}
    if "chosen" in case:
        body["chosen"] = build(case["chosen"])
    start = time.monotonic()
    res = client.post("/v1/probe", json=body)
    assert time.monotonic() - start < 10
    assert res.status_code == case["status"], res.text[:500]
    if "detail" in case:
        assert case["detail"] in res.text


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["parse"]], ids=[c["id"] for c in CASES if c["parse"]]
)
def test_hostile_edit_file_refused_when_parsed(tmp_path, case):
    path = tmp_path / "edits.json"
    path.write_text(json.dumps({"edits": build(case["custom_edits"])}), encoding="utf-8")
    with pytest.raises(DataFormatError, match=None) as err:
        load_edits_file(path)
    assert "\n" not in str(err.value)


def test_replace_growth_is_refused_before_the_text_is_built():
    """A 'replace' of each of 20,000 'a's by 20,000 'b's would be 400 M characters; the
    length is computed first, so almost nothing is allocated."""
    edit = parse_edit({"name": "g", "op": "replace", "old": "a", "new": "b" * 10_000}, "t")
    text = "a" * 20_000
    tracemalloc.start()
    try:
        with pytest.raises(EditError, match="would make a text"):
            edit.apply(text, max_chars=20_000)
        regex_edit = parse_edit(
            {"name": "g", "op": "regex", "pattern": "a", "replacement": "b" * 10_000}, "t"
        )
        with pytest.raises(EditError, match="would make a text"):
            regex_edit.apply(text, max_chars=20_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_backtracking_pattern_stops_at_its_time_limit():
    edit = parse_edit({"name": "r", "op": "regex", "pattern": "(a|aa)+$", "replacement": ""}, "t")
    start = time.monotonic()
    with pytest.raises(EditError, match="time limit"):
        edit.apply("a" * 60 + "!", timeout_s=0.2)
    assert time.monotonic() - start < 2


def test_valid_templates_still_work():
    edit = parse_edit(
        {"name": "t", "op": "regex", "pattern": r"(?P<w>\w+)!", "replacement": r"<\g<w>>\n"}, "t"
    )
    assert edit.apply("hi! yo!") == "<hi>\n <yo>\n"
