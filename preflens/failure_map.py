"""The map of a run's pairs (``preflens map``): 2D coordinates, clusters, cluster names
from c-TF-IDF and per-cluster statistics. Pure numpy and scikit-learn (imported when
called); the job that reads and stores lives in ``training.jobs.map_pairs``.

Representations (``on``): ``prompt`` is the state at the last token the two sides share
(the end of the prompt), ``diff`` is chosen - rejected (what the head compares), ``chosen``
is the chosen side's state. Clusters are found in a 10-dimensional PCA of the standardised
representation (not in the 2D picture, which loses too much); the picture is UMAP when
``umap-learn`` is installed and the run has 50 to 20,000 pairs, PCA otherwise.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from preflens.uncertainty import normal_interval, proportion

REPRESENTATIONS = ("prompt", "diff", "chosen")
METHODS = ("auto", "umap", "pca")
CLUSTERERS = ("kmeans", "hdbscan")
# UMAP of 3,000 pairs took 113 s on the shared 2-core CPU (numba compiling included); PCA
# draws runs over 20,000 pairs.
UMAP_MIN, UMAP_MAX = 50, 20_000
CLUSTER_DIMS = 10
NAME_TERMS = 3
NOISE = -1
ROLE_WORDS = frozenset({"user", "assistant", "system", "human"})
_WORD = re.compile(r"[a-z][a-z0-9']+")


def representation(states: dict[str, np.ndarray], on: str) -> np.ndarray:
    """The vectors to map: the prompt's, chosen - rejected, or the chosen side's."""
    if on == "prompt":
        return states["prompt"]
    if on == "diff":
        return states["chosen"] - states["rejected"]
    if on == "chosen":
        return states["chosen"]
    raise ValueError(f"unknown representation {on!r}; choose from {', '.join(REPRESENTATIONS)}")


def umap_available() -> bool:
    """Whether ``umap-learn`` can be imported."""
    try:
        import umap  # noqa: F401
    except ImportError:
        return False
    return True


def _standardise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _pca(x: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` principal-component scores (zero columns pad a narrower input)."""
    n, d = x.shape
    k_eff = max(0, min(k, n - 1, d))
    out = np.zeros((n, k))
    if k_eff:
        u, s, _ = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
        out[:, :k_eff] = u[:, :k_eff] * s[:k_eff]
    return out


def project(x: np.ndarray, method: str = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """2D coordinates of the rows of ``x`` and the method used (``umap`` or ``pca``)."""
    n = len(x)
    z = _standardise(x)
    use_umap = method == "umap" or (method == "auto" and UMAP_MIN <= n <= UMAP_MAX)
    if use_umap and n >= UMAP_MIN and umap_available():
        import umap

        reducer = umap.UMAP(n_components=2, random_state=seed, n_neighbors=min(15, n - 1))
        return np.asarray(reducer.fit_transform(z), dtype=np.float64), "umap"
    return _pca(z, 2), "pca"


def default_k(n: int) -> int:
    """k-means' cluster count when none is given: about sqrt(n / 20), between 2 and 12."""
    return int(min(12, max(2, round(math.sqrt(n / 20)))))


def cluster(
    x: np.ndarray, clusterer: str = "kmeans", seed: int = 0, k: int | None = None
) -> np.ndarray:
    """Cluster labels (0..k-1; ``-1`` for HDBSCAN's noise) of the rows of ``x``, found in a
    10-dimensional PCA of the standardised vectors."""
    n = len(x)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    z = _pca(_standardise(x), CLUSTER_DIMS)
    if clusterer == "kmeans":
        from sklearn.cluster import KMeans

        k = min(k or default_k(n), n)
        return KMeans(n_clusters=k, random_state=seed, n_init=4).fit_predict(z).astype(np.int64)
    if clusterer == "hdbscan":
        from sklearn.cluster import HDBSCAN

        size = max(5, n // 50)
        return HDBSCAN(min_cluster_size=size, copy=True).fit_predict(z).astype(np.int64)
    raise ValueError(f"unknown clusterer {clusterer!r}; choose from {', '.join(CLUSTERERS)}")


def tokenize(text: str, stop: frozenset[str]) -> list[str]:
    """Lower-cased words of three or more characters that are not stop words."""
    return [w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in stop]


def c_tf_idf(docs_per_class: Sequence[Sequence[str]]) -> tuple[list[str], np.ndarray]:
    """Class-based TF-IDF over token lists grouped by class (each class's documents joined
    into one): ``W[c, t] = tf[c, t] / words[c] * log(1 + A / f[t])``, where ``tf`` counts
    term ``t`` in class ``c``, ``words[c]`` the class's tokens, ``f[t]`` the term's count
    over all classes and ``A`` the mean tokens per class. A term frequent in one class and
    rare elsewhere scores high. Returns (vocabulary, W of shape classes x terms)."""
    counts = [Counter(tok for doc in docs for tok in doc) for docs in docs_per_class]
    vocab = sorted(set().union(*counts)) if counts else []
    index = {t: i for i, t in enumerate(vocab)}
    tf = np.zeros((len(counts), len(vocab)))
    for c, counter in enumerate(counts):
        for term, m in counter.items():
            tf[c, index[term]] = m
    words = tf.sum(axis=1, keepdims=True)
    if not vocab:
        return vocab, tf
    f = tf.sum(axis=0)
    avg = words.mean()
    return vocab, tf / np.where(words > 0, words, 1.0) * np.log1p(avg / f)


def cluster_names(
    texts: Sequence[str], labels: np.ndarray, terms: int = NAME_TERMS
) -> dict[int, list[str]]:
    """Each cluster's most distinctive prompt terms by c-TF-IDF (the noise label, -1, takes
    part as one class of 'the rest' but is not named)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    # Role names of flattened multi-turn prompts ("user: ... assistant: ...") are in
    # every cluster's text and would name none of them.
    stop = frozenset(ENGLISH_STOP_WORDS) | ROLE_WORDS
    ids = sorted({int(c) for c in labels})
    groups = [
        [tokenize(t, stop) for t, lab in zip(texts, labels, strict=True) if lab == c] for c in ids
    ]
    vocab, w = c_tf_idf(groups)
    out: dict[int, list[str]] = {}
    for row, c in enumerate(ids):
        if c == NOISE or not vocab:
            continue
        order = np.lexsort((np.array(vocab), -w[row]))  # ties by term, for stable names
        out[c] = [vocab[j] for j in order[:terms] if w[row, j] > 0]
    return out


def _mean_interval(values: np.ndarray) -> dict[str, Any]:
    n = len(values)
    se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    iv = normal_interval(float(values.mean()), se, n)
    return iv | {"method": "normal: mean +- 1.96 standard errors"}


def cluster_stats(
    labels: np.ndarray,
    gaps: np.ndarray,
    chosen_longer: np.ndarray,
    names: dict[int, list[str]],
) -> list[dict[str, Any]]:
    """Per cluster: n, accuracy (gap > 0 counts right, a tie wrong; Wilson 95% interval),
    gap mean (normal 95% interval: mean +- 1.96 standard errors), share of pairs whose
    chosen response has more characters (Wilson), and its name; worst accuracy first."""
    out = []
    for c in sorted({int(v) for v in labels}):
        mask = labels == c
        n = int(mask.sum())
        terms = names.get(c, [])
        out.append(
            {
                "id": c,
                "name": "unclustered" if c == NOISE else (" · ".join(terms) or f"cluster {c}"),
                "terms": terms,
                "n": n,
                "accuracy": proportion(int((gaps[mask] > 0).sum()), n),
                "gap_mean": _mean_interval(gaps[mask]),
                "chosen_longer": proportion(int(chosen_longer[mask].sum()), n),
            }
        )
    out.sort(key=lambda d: (d["accuracy"]["value"], d["id"]))
    return out


def build_map(
    states: dict[str, Any],
    on: str = "prompt",
    method: str = "auto",
    clusterer: str = "kmeans",
    seed: int = 0,
    k: int | None = None,
) -> dict[str, Any]:
    """Map and cluster the pairs of ``states`` (``db.read.maps.pair_states``): per pair x,
    y and cluster, and the clusters with names and statistics (worst first)."""
    x = representation(states, on)
    xy, used = project(x, method, seed)
    labels = cluster(x, clusterer, seed, k)
    names = cluster_names(states["prompt_text"], labels)
    longer = states["chars_chosen"] > states["chars_rejected"]
    return {
        "representation": on,
        "method": used,
        "clusterer": clusterer,
        "xy": xy,
        "labels": labels,
        "clusters": cluster_stats(labels, states["gap"], longer, names),
    }
