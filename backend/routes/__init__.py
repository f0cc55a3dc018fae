"""Routers: health, compute (score, compare, generate), data (datasets, runs, statistics)
and cases."""
