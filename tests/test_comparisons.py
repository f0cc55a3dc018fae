"""One rule for comparisons: only score runs on the same pairs are compared, the default
partner is the before/after partner, and every surface (db.read, the CLI, the HTTP API)
refuses runs on different pairs, naming both datasets."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from db.read import compare
from db.read.diagnostics import paired, paired_scatter
from preflens.cli.main import main
from preflens.errors import IncomparableError
from tests.diagnostics_seed import seed_comparisons


@pytest.fixture
def cmp(store):
    return seed_comparisons(store)


def test_partner_and_comparable_runs(store, cmp):
    before, after = cmp.diag.base.score_run, cmp.diag.after_run
    with store() as s:
        assert compare.partner(s, after)["run"] == before
        assert compare.partner(s, before)["run"] == after
        assert compare.partner(s, before)["role"] == "before"
        assert compare.partner(s, cmp.backwards_run) is None
        opts = compare.comparison_options(s, after)
        # partner first, then the other runs on the toy pairs; never the other dataset
        assert opts["comparable"][0] == before
        assert set(opts["comparable"]) == {before, cmp.diag.partial_run, cmp.backwards_run}
        assert compare.comparison_options(s, cmp.other_dataset_run)["comparable"] == []


def test_db_refuses_runs_on_different_pairs(store, cmp):
    with store() as s:
        for fn in (paired, paired_scatter):
            with pytest.raises(IncomparableError, match="'toy'.*'elsewhere'"):
                fn(s, cmp.diag.after_run, cmp.other_dataset_run)


@pytest.fixture
def cli(monkeypatch, db_url, cmp):
    monkeypatch.setenv("PREFLENS_DATABASE_URL", db_url)
    from preflens.config import get_settings

    get_settings.cache_clear()
    return cmp


@pytest.mark.parametrize("command", ["diagnose", "report"])
def test_cli_refuses_runs_on_different_pairs(cli, capsys, tmp_path, command):
    extra = ["-o", str(tmp_path / "r.html")] if command == "report" else []
    argv = [command, str(cli.diag.after_run), "--against", str(cli.other_dataset_run), *extra]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "'toy'" in captured.err and "'elsewhere'" in captured.err
    assert captured.out == ""  # refused before anything is printed
    assert not (tmp_path / "r.html").exists()


def test_cli_against_without_value_is_the_partner(cli, capsys):
    assert main(["diagnose", str(cli.diag.after_run), "--against"]) == 0
    out = capsys.readouterr().out
    assert f"run {cli.diag.after_run} against run {cli.diag.base.score_run}" in out
    assert main(["diagnose", str(cli.backwards_run), "--against"]) == 2
    assert "no before/after partner" in capsys.readouterr().err


@pytest.fixture
def client(db_url, cmp):
    from backend.app import create_app
    from preflens.config import Settings

    settings = Settings(database_url=db_url, api_rm="", api_policies={})
    app = create_app(settings, reward_model=None, policies={})
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_api_refuses_runs_on_different_pairs_with_409(client, cmp):
    a, other = cmp.diag.after_run, cmp.other_dataset_run
    for path in (f"/v1/runs/{a}/paired/{other}", f"/v1/runs/{other}/paired/{a}"):
        r = client.get(path)
        assert r.status_code == 409, r.text
        assert "'toy'" in r.json()["detail"] and "'elsewhere'" in r.json()["detail"]
    assert client.get(f"/v1/runs/{a}/paired/{cmp.diag.base.score_run}").status_code == 200


def test_api_comparable_lists_the_partner_first(client, cmp):
    r = client.get(f"/v1/runs/{cmp.diag.after_run}/comparable")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["partner"]["run"] == cmp.diag.base.score_run
    assert body["comparable"][0] == cmp.diag.base.score_run
    assert cmp.other_dataset_run not in body["comparable"]


def test_a_dataset_without_categories_has_no_none_group(store, cmp):
    from dashboard.frames import category_frame
    from db.read.diagnostics import by_group
    from db.read.summaries import score_summary

    with store() as s:
        assert by_group(s, cmp.other_dataset_run, "category") == []
        summary = score_summary(s, cmp.other_dataset_run)
    assert summary["categories"] and category_frame(summary, "#1").empty


def test_label_noise_and_dpo_agreement_refuse_runs_on_other_pairs(client, store, cmp):
    from db.schema import Run

    with store() as s:
        dpo = Run(kind="score_dpo", key="k-dpo", status="done", dataset_id=cmp.diag.base.dataset_id)
        s.add(dpo)
        s.commit()
        dpo_id = dpo.id
    a, other = cmp.diag.after_run, cmp.other_dataset_run
    r = client.get("/v1/label-noise", params={"run": [a, other]})
    assert r.status_code == 409 and "'elsewhere'" in r.json()["detail"]
    assert client.get("/v1/label-noise", params={"run": [a, cmp.backwards_run]}).status_code == 200
    r = client.get(f"/v1/runs/{dpo_id}/dpo/agreement", params={"rm_run": other})
    assert r.status_code == 409 and "'toy'" in r.json()["detail"]
