"""bench/map_at_scale.py at a tiny size: it builds its store, maps it once and reads the
page's view, and what it reports agrees with the stored map."""

from __future__ import annotations

import json

from bench import map_at_scale


def test_map_at_scale_runs_small(tmp_path):
    out = tmp_path / "map.json"
    result = map_at_scale.main(["--pairs", "40", "--dir", str(tmp_path), "--out", str(out)])
    assert json.loads(out.read_text())["pairs"] == 40
    assert result["method"] == "pca"  # under 50 pairs the picture is PCA
    assert result["points_returned"] == 40 and result["clusters"] == 2
    assert result["map_seconds"] > 0 and result["page_read_ms_median"] > 0
