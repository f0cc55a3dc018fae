"""``preflens.api`` equals its twins: each job function is the command's job (a second call
through the other door reuses the same run), ``Run.pairs()`` / ``answers()`` are the rows
of ``preflens export``, and diagnostics, paired comparison, summary, cases, datasets,
runs and ad-hoc scores equal what a real ``preflens serve`` (uvicorn on loopback) returns
for the same store."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pandas as pd
import pytest

import preflens
from preflens.cli.main import main
from preflens.errors import ConfigError, QueryError
from tests.conftest import REPO
from tests.factories import trl_rows, write_jsonl
from tests.serving import preflens_serve


def toy_rows() -> list[dict]:
    rows = trl_rows(16)
    for i, row in enumerate(rows):
        row["split"] = "test" if i % 2 else "train"
        row["category"] = "math" if i % 3 else "talk"
    return rows


def cli(capsys, *argv: str) -> str:
    """Run one command in-process on the test's store; its stdout."""
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def exported(capsys, tmp_path: Path, run_id: int) -> pd.DataFrame:
    path = tmp_path / f"run{run_id}.csv"
    cli(capsys, "export", str(run_id), "--format", "csv", "-o", str(path))
    return pd.read_csv(path)


def as_csv(df: pd.DataFrame) -> pd.DataFrame:
    """A frame as it reads back from CSV (the export's file holds text, not types)."""
    return pd.read_csv(io.StringIO(df.to_csv(index=False)))


def test_import_preflens_is_light_and_lists_the_api():
    code = (
        "import sys, preflens, preflens.api; "
        "heavy = [m for m in ('torch', 'pandas', 'transformers') if m in sys.modules]; "
        "print(heavy, preflens.Store is preflens.api.Store, 'load_reward_model' in dir(preflens))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[] True True"
    with pytest.raises(AttributeError):
        preflens.no_such_name  # noqa: B018


def test_jobs_are_the_commands_jobs(capsys, tmp_path, tiny_lm, stopping_lm):
    data = write_jsonl(tmp_path / "toy.jsonl", toy_rows())
    cli(capsys, "ingest", str(data), "--name", "toy")
    again = preflens.ingest(str(data), name="toy", progress=False)
    assert (again.added, again.duplicates) == (0, 16)  # the same dataset, read the same way
    preflens.ingest(str(data), name="toy2", progress=False)
    store = preflens.Store()
    ds = store.datasets().set_index("name")
    assert ds.loc["toy", "pairs"] == ds.loc["toy2", "pairs"] == 16
    assert ds.loc["toy", "splits"] == ds.loc["toy2", "splits"] == {"test": 8, "train": 8}

    # score: the API's run is the command's run (the second door reuses it)
    run = preflens.score(str(tiny_lm), "toy", progress=False)
    assert (run.kind, run.status, run.info["split"]) == ("score", "done", "test")
    out = cli(capsys, "score", "--dataset", "toy", "--model", str(tiny_lm))
    assert f"score run {run.id} (already complete, reused) on split test" in out
    out = cli(capsys, "score", "--dataset", "toy", "--model", str(tiny_lm), "--split", "all")
    all_id = int(re.search(r"score run (\d+) \(scored 16 pairs\)", out).group(1))
    assert preflens.score(str(tiny_lm), "toy", split="all", progress=False).id == all_id
    with pytest.raises(ConfigError, match="--batch-size 0: must be at least 1"):
        preflens.score(str(tiny_lm), "toy", batch_size=0)  # checked as the CLI checks it
    cfg = preflens.ScoreConfig(dataset="toy", model=str(tiny_lm), head_seed=1)
    seeded = preflens.score(config=cfg, progress=False)
    assert seeded.id not in (run.id, all_id) and seeded.info["config"]["head_seed"] == 1

    # generate: same options through either door, one run
    gen = preflens.generate(
        {"tiny": str(stopping_lm)}, "toy", max_new_tokens=4, limit=2, progress=False
    )
    out = cli(
        capsys,
        "generate",
        "--policy",
        f"tiny={stopping_lm}",
        "--dataset",
        "toy",
        "--max-new-tokens",
        "4",
        "--limit",
        "2",
    )
    assert f"generation run {gen.id} (already complete, reused)" in out
    assert [r.id for r in store.runs(kind="generate")] == [gen.id]
    assert [r.id for r in store.runs(kind="score", dataset="toy")] == [run.id, all_id, seeded.id]


@contextmanager
def serving(**env: str) -> Iterator[str]:
    """``preflens serve`` (real uvicorn) on the test's store, on a free port; its URL."""
    with preflens_serve([], {**os.environ, **env}) as url:
        yield url


@pytest.fixture
def scored(capsys, tmp_path, tiny_lm, stopping_lm):
    """The toy dataset with two score runs (head seeds 0 and 1) and a scored generation
    run, all made by the command line."""
    data = write_jsonl(tmp_path / "toy.jsonl", toy_rows())
    cli(capsys, "ingest", str(data), "--name", "toy")
    for seed in ("0", "1"):
        cli(capsys, "score", "--dataset", "toy", "--model", str(tiny_lm), "--head-seed", seed)
    policies = ("--policy", f"a={stopping_lm}", "--policy", f"b={tiny_lm}")
    out = cli(capsys, "generate", *policies, "--dataset", "toy", "--max-new-tokens", "3")
    gen = re.search(r"generation run (\d+)", out).group(1)
    out = cli(capsys, "score-generations", "--rm", str(tiny_lm), "--run", gen)
    return data, int(re.search(r"generation scoring run (\d+)", out).group(1))


def test_reads_equal_export_and_http(capsys, tmp_path, tiny_lm, scored):
    data, cmp_id = scored
    store = preflens.Store()
    before, after = store.runs(kind="score", dataset="toy")
    # one server, loading the tiny model as its reward model for POST /v1/score
    with (
        serving(PREFLENS_API_RM=str(tiny_lm)) as url,
        httpx.Client(base_url=url, timeout=120) as http,
    ):
        _compare(capsys, tmp_path, tiny_lm, store, before, after, cmp_id, data, http)


def _compare(capsys, tmp_path, tiny_lm, store, before, after, cmp_id, data, http) -> None:  # noqa: ANN001

    # rows: the export's CSV, parsed
    pd.testing.assert_frame_equal(as_csv(after.pairs()), exported(capsys, tmp_path, after.id))
    assert len(after.pairs()) == 8 and list(after.pairs().columns)[:4] == [
        "pair_id",
        "split",
        "category",
        "prompt",
    ]
    answers = store.run(cmp_id).answers()
    pd.testing.assert_frame_equal(as_csv(answers), exported(capsys, tmp_path, cmp_id))
    assert set(answers["policy_a"]) | set(answers["policy_b"]) == {"a", "b"}
    with pytest.raises(QueryError, match="pairs\\(\\) reads score runs"):
        store.run(cmp_id).pairs()
    with pytest.raises(QueryError, match="answers\\(\\) score_generations runs"):
        after.answers()
    with pytest.raises(QueryError, match="at least 1"):
        after.cases(limit=0)

    # numbers: the JSON routes (floats survive JSON exactly)
    def same(value: object, route: str) -> None:
        reply = http.get(route)
        assert reply.status_code == 200, reply.text
        assert json.loads(json.dumps(value)) == reply.json(), route

    same(after.diagnostics(), f"/v1/runs/{after.id}/diagnostics")
    same(after.diagnostics(b=1000, seed=3), f"/v1/runs/{after.id}/diagnostics?b=1000&seed=3")
    same(store.run(cmp_id).diagnostics(), f"/v1/runs/{cmp_id}/diagnostics")
    paired = after.diagnostics(against=before)
    same(paired["paired"], f"/v1/runs/{before.id}/paired/{after.id}")
    assert {k: v for k, v in paired.items() if k != "paired"} == after.diagnostics()
    same(after.summary(), f"/v1/runs/{after.id}/summary")
    same(store.run(cmp_id).summary(tie_margin=0.5), f"/v1/runs/{cmp_id}/summary?tie_margin=0.5")
    same(json.loads(store.datasets().to_json(orient="records")), "/v1/datasets")
    same([r.info for r in store.runs()], "/v1/runs")
    same(after.info, f"/v1/runs/{after.id}")

    # cases: the route's filters, and every page gathered
    query = "category=math&sort=abs_gap&limit=3"
    page = http.get(f"/v1/cases?run={after.id}&{query}").json()
    frame = after.cases(category="math", sort="abs_gap", limit=3)
    assert frame.to_dict(orient="records") == page["items"]
    everything = after.cases(limit=None, sort="gap_asc")
    assert list(everything["pair_id"]) == list(after.pairs().sort_values("gap")["pair_id"])
    words = after.cases(q="Question number 3", limit=None)
    assert list(words["pair_id"]) == list(
        after.pairs().query("prompt.str.contains('number 3:')")["pair_id"]
    )

    # ad-hoc scores: the score run's numbers for the rows of the file it read
    rm = preflens.load_reward_model(str(tiny_lm))
    rows = pd.read_json(data, lines=True)
    by_prompt = rm.score_pairs(rows[rows["split"] == "test"]).set_index("chosen")
    pairs = after.pairs() if after.info["config"]["head_seed"] == 0 else before.pairs()
    pairs = pairs.set_index("chosen")
    for column in ("score_chosen", "score_rejected", "gap"):
        got = by_prompt.loc[pairs.index, column].to_numpy()
        assert got == pytest.approx(pairs[column].to_numpy(), abs=1e-5)
    items = [
        {"prompt": "Is water wet?", "response": "  Water makes things wet. "},
        {"prompt": [{"role": "user", "content": "Hi"}], "response": "Hello there."},
    ]
    served = http.post("/v1/score", json={"items": items}).json()["results"]
    for item, result in zip(items, served, strict=True):
        assert rm.score(item["prompt"], item["response"]) == pytest.approx(
            result["score"], abs=1e-5
        )
    first = pairs.iloc[0]
    one = rm.score(rows.loc[rows["chosen"] == first.name, "prompt"].item(), first.name)
    assert one == pytest.approx(first["score_chosen"], abs=1e-5)
