"""The DPO-from-scratch notebook runs top to bottom (its own asserts check the loss falls,
the margin rises, and the hand-written loss equals PrefLens's DPO loss within 1e-4)."""

from __future__ import annotations

from tests.conftest import REPO


def test_dpo_from_scratch_notebook_runs(embedded_model):
    import nbformat
    from nbclient import NotebookClient

    path = REPO / "notebooks" / "dpo_from_scratch.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    ).execute()
    outputs = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "equal within 1e-4" in outputs
