"""PrefLens: inspect preference data, reward models and DPO policies."""

__version__ = "0.1.0"
