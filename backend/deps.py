"""Dependencies routes use to reach what the lifespan set up: settings, one database
session per request, the reward and generation services. Tests swap any of them with
``app.dependency_overrides``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from backend.errors import ApiError
from preflens.config import Settings

if TYPE_CHECKING:  # the services load torch; the read routes must not
    from backend.services import GenerationService, RewardService


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One read session per request, closed when the response is done."""
    with request.app.state.sessionmaker() as session:
        yield session


def get_reward_service(request: Request) -> RewardService:
    service = request.app.state.reward
    if service is None:
        raise ApiError(503, "no reward model is loaded; start the server with --rm MODEL")
    return service


def get_optional_reward_service(request: Request) -> RewardService | None:
    """The reward service, or None when the server runs without a reward model."""
    return request.app.state.reward


def get_generation_service(request: Request) -> GenerationService:
    service = request.app.state.generation
    if not service.policies:
        raise ApiError(503, "no policy is loaded; start the server with --policy NAME=MODEL")
    return service


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
# The dependency decides; the annotated type is only documentation (FastAPI does not need
# it, and naming the classes here would import torch into every route module).
RewardDep = Annotated[Any, Depends(get_reward_service)]
OptionalRewardDep = Annotated[Any, Depends(get_optional_reward_service)]
GenerationDep = Annotated[Any, Depends(get_generation_service)]
