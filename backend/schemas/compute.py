"""Request and response bodies of the compute routes. Size limits that depend on
settings (characters per text and per prompt, items per request, policies, new tokens)
are checked in the routes, so the error can name the setting; fixed bounds (ids, seed)
are declared here so the OpenAPI document states them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from db.lookup import MAX_ID

MAX_SEED = 2**64 - 1  # torch.manual_seed takes at most an unsigned 64-bit seed
MAX_POLICY_NAMES = 64  # a hard cap; the setting max_policies is usually lower
MAX_POLICY_NAME_CHARS = 200
# Sampling divides the logits by the temperature: a tiny one (say 5e-324) makes them
# infinite and the sampler fails on NaN probabilities.
MIN_TEMPERATURE = 0.01


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant", "tool"]
    content: str


Prompt = Annotated[
    str | Annotated[list[Message], Field(min_length=1)],
    Field(description="a user message as text, or chat messages"),
]


def prompt_messages(prompt: str | list[Message]) -> list[dict[str, str]]:
    """A prompt as chat messages, as ingest stores it (text becomes one user message)."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [m.model_dump() for m in prompt]


def texts_of(prompt: str | list[Message]) -> list[str]:
    return [prompt] if isinstance(prompt, str) else [m.content for m in prompt]


class ScoreItem(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"prompt": "What is the capital of France?", "response": "Paris."},
            ]
        },
    )

    prompt: Prompt
    response: str
    per_token: bool = Field(
        default=False, description="also return the response's tokens with the head's value at each"
    )


class ScoreBatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"prompt": "What is 2 + 2?", "response": "4."},
                        {
                            "prompt": [{"role": "user", "content": "What is 2 + 2?"}],
                            "response": "I would rather not say.",
                        },
                    ]
                }
            ]
        },
    )

    items: list[ScoreItem] = Field(min_length=1)
    per_token: bool = Field(default=False, description="per_token for every item")


def _score_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "batch" if "items" in value else "item"
    return "batch" if isinstance(value, ScoreBatch) else "item"


ScoreRequest = Annotated[
    Annotated[ScoreItem, Tag("item")] | Annotated[ScoreBatch, Tag("batch")],
    Discriminator(_score_kind),
]


class TokenValue(BaseModel):
    text: str = Field(description="the token as text (pieces concatenate to the response)")
    value: float = Field(description="the reward head's value at this token")
    response: bool = Field(description="false for the template's end-of-turn tokens")


class ScoreResult(BaseModel):
    score: float = Field(description="the reward model's scalar output")
    n_tokens: int = Field(
        description="conversation tokens (as scored): the templated conversation after cutting "
        "to max_length"
    )
    truncated: bool = Field(description="the conversation was cut to its last max_length tokens")
    model: str = Field(description="the reward model that scored it")
    head_initialized: bool = Field(
        default=False,
        description="true when the RM had no trained head (initialised from a seed): its "
        "scores are noise",
    )
    tokens: list[TokenValue] | None = Field(
        default=None,
        description="with per_token: the response's tokens then the end-of-turn tokens, each "
        "with the head's value there (reads only the text up to it); the last value is the "
        "score. Only the last position is trained in a Bradley-Terry RM.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"score": 0.4242, "n_tokens": 27, "truncated": False, "model": "rm"},
            ]
        }
    )


class ScoreResults(BaseModel):
    results: list[ScoreResult]


class CompareRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "prompt": "How do I boil an egg?",
                    "response_a": "Put it in boiling water for nine minutes, then cool it.",
                    "response_b": "Eggs are a good source of protein.",
                    "run": 1,
                }
            ]
        },
    )

    prompt: Prompt
    response_a: str
    response_b: str
    run: int | None = Field(
        default=None,
        ge=0,
        le=MAX_ID,
        description="a score or score_generations run: adds each score's percentile in it",
    )


class CompareResult(BaseModel):
    model: str
    score_a: float
    score_b: float
    gap: float = Field(description="score_a - score_b")
    p_a_preferred: float = Field(description="sigmoid(score_a - score_b)")
    n_tokens_a: int
    n_tokens_b: int
    truncated_a: bool
    truncated_b: bool
    head_initialized: bool = Field(
        default=False, description="true when the RM's head is untrained: scores are noise"
    )
    max_length: int | None = Field(default=None, description="this server's RM max length")
    run: int | None = None
    percentile_a: float | None = Field(default=None, description="0-100, within the run")
    percentile_b: float | None = None
    run_model: str | None = Field(default=None, description="the RM that scored the run")
    run_max_length: int | None = Field(default=None, description="the run's max length")
    run_same_model: bool | None = Field(
        default=None,
        description="whether the run was scored by this server's RM (same weights "
        "fingerprint and max length); when false the percentiles compare scores of "
        "different models",
    )


class GenerateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "prompt": "Give me one tip for sleeping better.",
                    "policies": ["base", "dpo"],
                    "max_new_tokens": 64,
                    "temperature": 0.0,
                }
            ]
        },
    )

    prompt: Prompt
    policies: (
        Annotated[
            list[Annotated[str, Field(max_length=MAX_POLICY_NAME_CHARS)]],
            Field(max_length=MAX_POLICY_NAMES),
        ]
        | None
    ) = Field(
        default=None,
        description="loaded policy names (default: every loaded policy); at most max_policies",
    )
    max_new_tokens: int | None = Field(
        default=None,
        ge=1,
        description="at most max_new_tokens_limit; default: 128 or that limit if lower",
    )
    temperature: float = Field(
        default=0.7,
        ge=0.0,
        le=2.0,
        description=f"0 means greedy; otherwise at least {MIN_TEMPERATURE}",
    )
    top_p: float = Field(default=0.9, gt=0.0, le=1.0)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)

    @field_validator("temperature")
    @classmethod
    def _usable_temperature(cls, value: float) -> float:
        if 0 < value < MIN_TEMPERATURE:
            raise ValueError(f"temperature must be 0 (greedy) or at least {MIN_TEMPERATURE}")
        return value


class GeneratedAnswer(BaseModel):
    policy: str
    text: str
    n_tokens: int = Field(description="generated tokens, without the stop token")
    finish_reason: Literal["stop", "length"]
    seconds: float
    score: float | None = Field(description="the reward model's score (null: no RM loaded)")
    score_tokens: int | None = None
    score_truncated: bool | None = None


class GenerateResult(BaseModel):
    model: str | None = Field(description="the reward model that scored the answers")
    head_initialized: bool | None = Field(
        default=None, description="true when the RM's head is untrained: scores are noise"
    )
    results: list[GeneratedAnswer]
