"""The API tour notebook runs top to bottom on a store shaped like the demo's (the demo
data set, a reward model trained on it that scored the test split before and after),
built through ``preflens.api`` with the tiny model so it takes seconds; the notebook's
own asserts check its numbers against its rows."""

from __future__ import annotations

import preflens
from tests.conftest import REPO


def test_api_tour_notebook_runs(tmp_path, tiny_lm):
    import nbformat
    from nbclient import NotebookClient

    from training.demo_data import write_demo_dataset

    data = write_demo_dataset(tmp_path / "demo_prefs.jsonl")
    preflens.ingest(str(data), name="demo", format="trl", progress=False)
    rm = preflens.train_rm(
        "demo",
        model=str(tiny_lm),
        limit=16,
        eval_limit=40,
        max_steps=2,
        max_length=128,
        progress=False,
    )
    assert set(rm.info["summary"]["scores"]) == {"before", "after"}

    nb = nbformat.read(REPO / "notebooks" / "api_tour.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    ).execute()
    outputs = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "checks passed: the API's numbers match its rows" in outputs
    assert "test pairs ranked wrong" in outputs
    html = [
        o["data"]["text/html"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    ]
    # Altair renders as HTML with the chart's Vega-Lite spec (title included) embedded
    assert any("vega" in h and "before and after RM training" in h for h in html)
