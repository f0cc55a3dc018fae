"""Response model of ``GET /v1/runs/{id}/map`` (``db.read.maps.map_view``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from backend.schemas.diagnostics import Interval
from backend.schemas.read import Open


class MapCluster(Open):
    id: int = Field(description="cluster id (-1: pairs HDBSCAN left in no cluster)")
    name: str = Field(description="its most distinctive prompt terms (c-TF-IDF), joined")
    terms: list[str] = Field(description="those terms, most distinctive first")
    n: int = Field(description="pairs in the cluster")
    accuracy: Interval = Field(description="gap > 0 counts right, a tie wrong; Wilson 95%")
    gap_mean: Interval = Field(description="mean gap, normal 95% interval")
    chosen_longer: Interval = Field(
        description="share of pairs whose chosen response has more characters; Wilson 95%"
    )


class MapPointOut(Open):
    pair_id: int
    x: float
    y: float
    cluster: int
    correct: bool = Field(description="gap > 0 (a tie is wrong)")
    gap: float = Field(description="score of chosen - score of rejected")
    preview: str = Field(description="the prompt's first 200 characters")


class RunMapOut(Open):
    run_id: int
    representation: str = Field(description="prompt, diff (chosen - rejected) or chosen")
    method: str = Field(description="2D projection used: umap or pca")
    clusterer: str = Field(description="kmeans or hdbscan")
    n: int = Field(description="pairs mapped")
    params: dict[str, Any]
    created_at: str
    clusters: list[MapCluster] = Field(description="worst accuracy first")
    points: list[MapPointOut] = Field(description="at most max_points, a seeded sample")
    points_total: int = Field(description="pairs on the map")
    sampled: bool = Field(description="true when points is a sample of points_total")
