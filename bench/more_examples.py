"""Regenerate backend/more_examples.json: real responses of the diagnostics, map and
fix-the-data routes, served by the app over the test seeds (tests/diagnostics_seed.py,
tests/over_seed.py, tests/map_seed.py), lists cut to three items and texts to 70
characters. Run: ``.venv/bin/python -m bench.more_examples``."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from backend.app import create_app
from db.migrate import upgrade
from db.session import get_sessionmaker
from preflens.config import Settings

OUT = Path(__file__).resolve().parents[1] / "backend" / "more_examples.json"
log = logging.getLogger(__name__)


def trim(value: Any) -> Any:
    """Lists cut to three items, strings to 70 characters, recursively."""
    if isinstance(value, dict):
        return {k: trim(v) for k, v in value.items()}
    if isinstance(value, list):
        return [trim(v) for v in value[:3]]
    if isinstance(value, str):
        return value[:70]
    return value


def _store(tmp: Path, name: str):
    url = f"sqlite:///{tmp / (name + '.db')}"
    upgrade(url)
    return url, get_sessionmaker(url)


def _client(url: str) -> TestClient:
    app = create_app(Settings(database_url=url, api_rm="", api_policies={}), policies={})
    return TestClient(app)


def _ok(client: TestClient, method: str, path: str, **kw: Any) -> Any:
    r = client.request(method, path, **kw)
    r.raise_for_status()
    return r.json()


def main() -> None:
    """Seed, serve, record and write the examples."""
    from tests.diagnostics_seed import seed_comparisons
    from tests.map_seed import two_topic_store
    from tests.over_seed import seed_bon, seed_series
    from training.jobs.map_pairs import run_map_job

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        url, store = _store(tmp, "compare")
        seeded = seed_comparisons(store)
        base = seeded.diag.base
        with _client(url) as c:
            out["comparable"] = _ok(c, "GET", f"/v1/runs/{base.score_run}/comparable")
            out["headlines"] = _ok(c, "GET", f"/v1/runs/{base.score_run}/headlines")
            pid = base.pair_ids[3]
            body = {"label": "mislabelled", "note": "the rejected answer is right"}
            out["flag_put"] = _ok(c, "PUT", f"/v1/pairs/{pid}/flag", json=body)
            out["flag"] = _ok(c, "GET", f"/v1/pairs/{pid}/flag")
            out["flags"] = _ok(c, "GET", "/v1/flags")
            out["suspects"] = _ok(c, "GET", "/v1/datasets/toy/suspects", params={"limit": 3})
            out["slices"] = _ok(
                c,
                "GET",
                f"/v1/runs/{base.score_run}/slices",
                params={"against": seeded.diag.after_run},
            )
            out["flag_delete"] = _ok(c, "DELETE", f"/v1/pairs/{pid}/flag")
        url, store = _store(tmp, "series")
        train_id, _ = seed_series(store)
        with _client(url) as c:
            out["series"] = _ok(c, "GET", f"/v1/runs/{train_id}/series", params={"b": 1000})
        url, store = _store(tmp, "bon")
        bon_id, _, _ = seed_bon(store)
        with _client(url) as c:
            out["bon"] = _ok(c, "GET", f"/v1/runs/{bon_id}/bon", params={"b": 1000})
        url, store = _store(tmp, "map")
        run_id, _ = two_topic_store(store, 40)
        run_map_job(store, run_id, method="pca", k=2)
        with _client(url) as c:
            out["map"] = _ok(c, "GET", f"/v1/runs/{run_id}/map", params={"max_points": 3})
    OUT.write_text(json.dumps(trim(out), indent=1) + "\n", encoding="utf-8")
    log.info("wrote %s", OUT)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
