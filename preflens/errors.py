"""Domain exceptions. Messages say what was wrong and what to do about it."""

from __future__ import annotations


class PrefLensError(Exception):
    """Base class for errors PrefLens reports to users without a traceback."""


class DataFormatError(PrefLensError):
    """A data source cannot be read as any known layout (or is ambiguous)."""


class RowError(PrefLensError):
    """One row of a data source is unusable; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ModelError(PrefLensError):
    """A model cannot be found, fetched or loaded."""


class NotFoundError(PrefLensError):
    """A dataset, run or checkpoint named by the user does not exist."""


class QueryError(PrefLensError):
    """The parameters of a read query do not fit the data (HTTP 422)."""


class SettingsError(PrefLensError):
    """A ``PREFLENS_*`` environment variable holds a value PrefLens cannot use."""


class IncomparableError(QueryError):
    """Two runs cannot be compared: they did not score the same pairs (HTTP 409)."""


class OutputError(PrefLensError):
    """An output file cannot be written (a folder, no permission, a full disk)."""


class ConfigError(PrefLensError):
    """A job option holds a value the job cannot use (zero batch size, a NaN beta)."""
