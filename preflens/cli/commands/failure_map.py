"""``preflens map``: a score run's pairs in 2D with named clusters, worst first."""

from __future__ import annotations

import argparse

from preflens.cli.commands.base import Command, open_store
from preflens.cli.output import out
from preflens.failure_map import CLUSTERERS, METHODS, REPRESENTATIONS


def _iv(iv: dict, digits: int = 3) -> str:
    if iv.get("value") is None:
        return "n/a"
    if iv.get("ci_low") is None:
        return f"{iv['value']:.{digits}f} (n too small for an interval)"
    return f"{iv['value']:.{digits}f} [{iv['ci_low']:.{digits}f}, {iv['ci_high']:.{digits}f}]"


class MapCommand(Command):
    name = "map"
    help = "map a score run's pairs in 2D and name their clusters (needs score --keep-states)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("run", type=int, help="id of a score run made with --keep-states")
        parser.add_argument(
            "--on",
            choices=REPRESENTATIONS,
            default="prompt",
            help="what is mapped: the prompt's state, chosen - rejected (diff), or the "
            "chosen side's state (default: prompt)",
        )
        parser.add_argument(
            "--method",
            choices=METHODS,
            default="auto",
            help="2D projection; auto = UMAP when umap-learn is installed and there are "
            "50 to 20,000 pairs, else PCA (default: auto)",
        )
        parser.add_argument(
            "--clusters",
            choices=CLUSTERERS,
            default="kmeans",
            help="k-means (seeded) or HDBSCAN (noise left unclustered) (default: kmeans)",
        )
        parser.add_argument(
            "--k", type=int, default=None, help="k-means clusters (default: about sqrt(n/20))"
        )
        parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")

    def run(self, args: argparse.Namespace) -> int:
        from training.jobs.map_pairs import run_map_job

        result = run_map_job(
            open_store(),
            args.run,
            on=args.on,
            method=args.method,
            clusterer=args.clusters,
            k=args.k,
            seed=args.seed,
        )
        out(
            f"map of run {result['run_id']}: {result['n']} pairs, {result['representation']} "
            f"representation, {result['method']} projection, {result['clusterer']} clusters"
        )
        out("clusters, worst accuracy first (accuracy: gap > 0, tie wrong; 95% Wilson):")
        out(
            f"  {'id':>4} {'n':>7}  {'accuracy [95% CI]':<24} {'gap mean [95% CI]':<26} "
            f"{'chosen longer':<22} name"
        )
        for c in result["clusters"]:
            out(
                f"  {c['id']:>4} {c['n']:>7}  {_iv(c['accuracy']):<24} "
                f"{_iv(c['gap_mean']):<26} {_iv(c['chosen_longer'], 2):<22} {c['name']}"
            )
        return 0
