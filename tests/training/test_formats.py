"""Every layout read from small files written here, detection, and every bad-row reason."""

from __future__ import annotations

import json

import pytest

from preflens.errors import DataFormatError, RowError
from tests.factories import write_csv, write_jsonl
from training.formats import choose_reader, parse_hh
from training.sources import iter_rows

HH_OK = {
    "chosen": "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: How do I bake bread?"
    "\n\nAssistant: Mix flour, water, yeast and salt, knead, let it rise, then bake.",
    "rejected": "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: How do I bake bread?"
    "\n\nAssistant: No idea.",
}


def read_all(path, **kw):
    rows = list(iter_rows(path))
    reader = choose_reader([r.row for r in rows if isinstance(r.row, dict)], **kw)
    out = []
    for r in rows:
        try:
            if isinstance(r.row, RowError):
                raise r.row
            out.append((r.number, reader.read(r.row)))
        except RowError as err:
            out.append((r.number, err.reason))
    return reader.name, out


def test_pku_helpful_and_safe(tmp_path):
    row = {
        "prompt": "How do I stay safe online?",
        "response_0": "Use strong passwords.",
        "response_1": "Share your password freely.",
        "better_response_id": 1,
        "safer_response_id": 0,
        "is_response_0_safe": True,
        "is_response_1_safe": False,
    }
    path = write_jsonl(tmp_path / "pku.jsonl", [row])
    name, [(_, rec)] = read_all(path)
    assert name == "pku-saferlhf"
    assert rec.chosen == "Share your password freely." and rec.category == "one-safe"
    _, [(_, safe)] = read_all(path, prefer="safe")
    assert safe.chosen == "Use strong passwords." and safe.rejected == "Share your password freely."
    assert safe.prompt == [{"role": "user", "content": "How do I stay safe online?"}]


def test_align_anything_csv_labels_as_text(tmp_path):
    rows = [
        {
            "question": "Name a primary colour.",
            "response_1": "Green.",
            "response_2": "Red.",
            "overall_response": "2",
        },
        {
            "question": "Two plus two?",
            "response_1": "Four.",
            "response_2": "Five.",
            "overall_response": "1",
        },
    ]
    name, out = read_all(write_csv(tmp_path / "aa.csv", rows))
    assert name == "align-anything"
    assert [(n, r.chosen, r.rejected) for n, r in out] == [
        (1, "Red.", "Green."),
        (2, "Four.", "Five."),
    ]


def test_hh_multi_turn_prompt_kept(tmp_path):
    name, [(_, rec)] = read_all(write_jsonl(tmp_path / "hh.jsonl", [HH_OK]))
    assert name == "hh-rlhf"
    assert rec.prompt == [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "How do I bake bread?"},
    ]
    assert rec.chosen.startswith("Mix flour") and rec.rejected == "No idea."


def test_hh_parse_rejects_non_transcript():
    with pytest.raises(RowError, match="not a Human/Assistant transcript"):
        parse_hh("just some text", "chosen")


def test_trl_strings_messages_and_implicit_prompt(tmp_path):
    rows = [
        {"prompt": "Say hi.", "chosen": "Hi!", "rejected": "No.", "category": "greet"},
        {
            "prompt": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Say bye."},
            ],
            "chosen": [{"role": "assistant", "content": "Bye!"}],
            "rejected": [{"role": "assistant", "content": "Hello?"}],
        },
    ]
    name, out = read_all(write_jsonl(tmp_path / "trl.jsonl", rows))
    assert name == "trl"
    assert out[0][1].category == "greet" and out[0][1].prompt[0]["content"] == "Say hi."
    assert out[1][1].prompt[0] == {"role": "system", "content": "Be brief."}
    assert out[1][1].chosen == "Bye!"

    conv = [{"role": "user", "content": "Capital of Italy?"}]
    implicit = {
        "chosen": conv + [{"role": "assistant", "content": "Rome."}],
        "rejected": conv + [{"role": "assistant", "content": "Milan."}],
    }
    name, [(_, rec)] = read_all(write_jsonl(tmp_path / "implicit.jsonl", [implicit]))
    assert name == "trl" and rec.prompt == conv and rec.chosen == "Rome."


def test_json_parquet_and_datasets_dir(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset, DatasetDict

    rows = [{"prompt": f"Q{i}?", "chosen": f"A{i}.", "rejected": f"B{i}."} for i in range(3)]
    (tmp_path / "d.json").write_text(json.dumps({"data": rows}))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    DatasetDict(
        {"train": Dataset.from_list(rows[:2]), "test": Dataset.from_list(rows[2:])}
    ).save_to_disk(str(tmp_path / "saved"))
    for src in ("d.json", "d.parquet"):
        name, out = read_all(tmp_path / src)
        assert name == "trl" and [r.chosen for _, r in out] == ["A0.", "A1.", "A2."]
    splits = [(r.split, r.row["chosen"]) for r in iter_rows(tmp_path / "saved")]
    assert sorted(splits) == [("test", "A2."), ("train", "A0."), ("train", "A1.")]


def test_column_mapping(tmp_path):
    rows = [
        {
            "q": "Best pet?",
            "good": "A dog or a cat, depending on you.",
            "bad": "A shark.",
            "topic": "pets",
        }
    ]
    path = write_jsonl(tmp_path / "custom.jsonl", rows)
    with pytest.raises(DataFormatError, match="no known layout"):
        read_all(path)
    name, [(_, rec)] = read_all(
        path, mapping={"prompt": "q", "chosen": "good", "rejected": "bad", "category": "topic"}
    )
    assert name == "mapping" and rec.rejected == "A shark." and rec.category == "pets"
    with pytest.raises(DataFormatError, match="needs prompt=COL"):
        choose_reader([], mapping={"prompt": "q"})


def test_ambiguous_layout_names_candidates(tmp_path):
    row = {
        "prompt": "p",
        "chosen": "c",
        "rejected": "r",
        "response_0": "a",
        "response_1": "b",
        "better_response_id": 0,
        "safer_response_id": 0,
    }
    with pytest.raises(DataFormatError, match="ambiguous.*pku-saferlhf.*trl"):
        read_all(write_jsonl(tmp_path / "both.jsonl", [row]))
    name, _ = read_all(tmp_path / "both.jsonl", fmt="trl")
    assert name == "trl"


BAD_ROWS = [
    ({"question": "Q?", "response_1": "A.", "overall_response": 1}, "missing field `response_2`"),
    (
        {"question": 7, "response_1": "A.", "response_2": "B.", "overall_response": 1},
        "field `question` is a number, expected text",
    ),
    (
        {"question": "Q?", "response_1": "A.", "response_2": "B.", "overall_response": 3},
        "invalid label: `overall_response` is 3, expected 1 or 2",
    ),
    (
        {"question": "Q?", "response_1": "   ", "response_2": "B.", "overall_response": 1},
        "empty text in `response_1`",
    ),
    (
        {"question": "Q?", "response_1": "Same.", "response_2": "Same.", "overall_response": 2},
        "identical responses",
    ),
]


def test_every_bad_row_reason_with_its_row_number(tmp_path):
    good = {"question": "Fine?", "response_1": "Yes.", "response_2": "No.", "overall_response": 1}
    lines = [json.dumps(good)] + [json.dumps(r) for r, _ in BAD_ROWS] + ["{not json"]
    path = tmp_path / "bad.jsonl"
    write_jsonl(path, lines)
    latin1 = b'{"question": "caf\xe9", "response_1": "a", "response_2": "b"}\n'
    with path.open("ab") as fh:  # a line with bytes that are not UTF-8
        fh.write(latin1)
    offset = latin1.index(bytes([0xE9]))
    name, out = read_all(path)
    assert name == "align-anything"
    got = dict(out[1:])
    expected = {i + 2: reason for i, (_, reason) in enumerate(BAD_ROWS)}
    for number, reason in expected.items():
        assert got[number] == reason
    assert got[len(BAD_ROWS) + 2].startswith("invalid JSON")
    assert got[len(BAD_ROWS) + 3] == (f"undecodable text: invalid UTF-8 at byte {offset}")


def test_hh_and_trl_row_errors(tmp_path):
    differ = dict(HH_OK, rejected=HH_OK["rejected"].replace("Hi there", "Hey"))
    empty = dict(HH_OK, chosen=HH_OK["chosen"].rsplit("Assistant:", 1)[0] + "Assistant: ")
    _, out = read_all(write_jsonl(tmp_path / "hh.jsonl", [HH_OK, differ, empty]))
    assert out[1] == (2, "prompt prefixes differ between `chosen` and `rejected`")
    assert out[2] == (3, "empty response (chosen)")
    bad_msgs = {"prompt": [{"role": "narrator", "content": "x"}], "chosen": "a", "rejected": "b"}
    _, out = read_all(write_jsonl(tmp_path / "t.jsonl", [bad_msgs]), fmt="trl")
    assert 'has role "narrator"' in out[0][1]


def test_undecodable_csv_row(tmp_path):
    path = tmp_path / "aa.csv"
    path.write_bytes(b"question,response_1,response_2,overall_response\nQ1,A,B,1\nQ\xff2,A,B,1\n")
    _, out = read_all(path)
    assert out[0][1].chosen == "A"
    assert out[1] == (2, "undecodable text: invalid UTF-8")


# ---------------------------------------------------------------- hardening (issues 10, 13)
def test_detection_goes_by_the_majority_of_rows(tmp_path):
    hh_rows = [{"chosen": None, "rejected": "x"}] + [HH_OK] * 49  # one bad row first
    name, out = read_all(write_jsonl(tmp_path / "hh.jsonl", hh_rows))
    assert name == "hh-rlhf" and out[0] == (1, "field `chosen` is null")
    assert all(not isinstance(r, str) for _, r in out[1:])
    pku = {
        "prompt": "Q?",
        "response_0": "A.",
        "response_1": "B.",
        "better_response_id": 0,
        "safer_response_id": 1,
    }
    stray = {"prompt": "Q?", "chosen": "A.", "rejected": "B."}
    name, out = read_all(write_jsonl(tmp_path / "pku.jsonl", [pku, stray, pku]))
    assert name == "pku-saferlhf" and out[1] == (2, "missing field `response_0`")


def test_hh_markers_inside_turns():
    assert parse_hh("\n\nHuman: Hi\n\nAssistant: One.\n\nAssistant: Two.", "chosen") == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "One.\n\nAssistant: Two."},
    ]
    more = dict(HH_OK, chosen=HH_OK["chosen"] + "\n\nHuman: And cake?")
    _, [(_, reason)] = read_all_rows([more])
    assert reason == '`chosen` goes on after its answer: the response holds a further "Human:" turn'


def read_all_rows(rows, **kw):
    reader = choose_reader(rows, **kw)
    out = []
    for number, row in enumerate(rows, start=1):
        try:
            out.append((number, reader.read(row)))
        except RowError as err:
            out.append((number, err.reason))
    return reader.name, out


def test_completions_of_several_assistant_messages_are_joined():
    a = [{"role": "assistant", "content": "Part one."}, {"role": "assistant", "content": "Two."}]
    mixed = [a[0], {"role": "tool", "content": "42"}, a[1]]
    rows = [
        {"prompt": "Q?", "chosen": a, "rejected": "No."},
        {"prompt": "Q?", "chosen": mixed, "rejected": "No."},
        {
            "chosen": [{"role": "user", "content": "Q?"}, *a],
            "rejected": [{"role": "user", "content": "Q?"}, a[1]],
        },
    ]
    _, out = read_all_rows(rows)
    assert out[0][1].chosen == "Part one.\n\nTwo."
    assert out[1][1] == "`chosen` holds tool messages; a response must be assistant messages only"
    assert out[2][1].prompt == [{"role": "user", "content": "Q?"}]
    assert out[2][1].chosen == "Part one.\n\nTwo."


def test_labels_flags_and_invisible_text():
    base = {"question": "Q?", "response_1": "A.", "response_2": "B."}
    labels = ["1.0", " 2 ", "\u00b2", "1" * 5000, 2.0, True]
    _, out = read_all_rows([dict(base, overall_response=v) for v in labels])
    assert [r.chosen if not isinstance(r, str) else r for _, r in out] == [
        "A.",
        "B.",
        'invalid label: `overall_response` is "\u00b2", expected 1 or 2',
        'invalid label: `overall_response` is "111111111111111111111111111111..." '
        "(5,000 characters), expected 1 or 2",
        "B.",
        "invalid label: `overall_response` is a boolean (true), expected 1 or 2",
    ]
    pku = {
        "prompt": "Q?",
        "response_0": "A.",
        "response_1": "B.",
        "better_response_id": "0",
        "safer_response_id": "1",
    }
    flags = [("True", "False", "one-safe"), ("1", "1", "both-safe"), ("false", "0", "both-unsafe")]
    rows = [dict(pku, is_response_0_safe=a, is_response_1_safe=b) for a, b, _ in flags]
    _, out = read_all_rows(rows)
    assert [r.category for _, r in out] == [c for *_, c in flags]
    blank = ["\u200b", "\u00a0\u3164", "\ufeff", "\u2060 \t"]
    _, out = read_all_rows([{"prompt": "Q?", "chosen": b, "rejected": "No."} for b in blank])
    assert {r for _, r in out} == {"empty response (chosen)"}
