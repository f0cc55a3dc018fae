"""Command-line options built from the job config dataclasses (``training.configs``), so
every default and help text has one source, and the small parsers for NAME=VALUE
options."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from preflens.config import EMBEDDED_MODEL_ALIAS
from preflens.errors import PrefLensError


def _base_type(annotation: Any) -> type:
    """``int | None`` -> int; ``str`` -> str."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0]
    return annotation


def field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return dataclasses.MISSING


def add_config_arguments(
    parser: argparse.ArgumentParser, cls: type, skip: Iterable[str] = ()
) -> None:
    """One option per field of the dataclass ``cls``: ``--field-name``, its type, default,
    help and choices from the field; a bool that defaults to True becomes ``--no-NAME``."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        meta = dict(f.metadata)
        flag = "--" + f.name.replace("_", "-")
        default = field_default(f)
        help_text = meta.get("help", "")
        kind = _base_type(hints[f.name])
        if kind is bool:
            if default is True:
                parser.add_argument(
                    f"--no-{flag[2:]}",
                    dest=f.name,
                    action="store_false",
                    help=f"do not {help_text}",
                )
            else:
                parser.add_argument(flag, dest=f.name, action="store_true", help=help_text)
            continue
        kwargs: dict[str, Any] = {"type": kind, "dest": f.name}
        if "choices" in meta:
            kwargs["choices"] = meta["choices"]
        if default is dataclasses.MISSING or meta.get("required"):
            kwargs["required"] = True
            kwargs["help"] = help_text
        else:
            kwargs["default"] = default
            kwargs["help"] = (
                f"{help_text} (default: %(default)s)" if default is not None else help_text
            )
        parser.add_argument(flag, **kwargs)


def config_from_args(cls: type, args: argparse.Namespace, **overrides: Any) -> Any:
    """An instance of ``cls`` from the parsed options (fields left unset keep defaults),
    its numbers checked against their fields' bounds (``ConfigError``: exit 2, no run)."""
    from training.configs import check_config

    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in vars(args).items() if k in names and v is not None}
    return check_config(cls(**{**values, **overrides}))


def parse_policies(items: Sequence[str] | None) -> dict[str, str]:
    """``["base=smollm2-135m-instruct", "dpo=./checkpoints/dpo"]`` -> {name: model}."""
    policies: dict[str, str] = {}
    for item in items or []:
        name, sep, model = (part.strip() for part in item.partition("="))
        if not sep or not name or not model:
            raise PrefLensError(
                f"--policy {item!r}: expected NAME=MODEL, e.g. base={EMBEDDED_MODEL_ALIAS}"
            )
        if name in policies:
            raise PrefLensError(f"--policy {name!r} is given twice")
        policies[name] = model
    return policies


def parse_mapping(items: Sequence[str] | None) -> dict[str, str] | None:
    """``["prompt=question", ...]`` -> {field: column}."""
    if not items:
        return None
    mapping = {}
    for item in items:
        key, sep, column = item.partition("=")
        if not sep or not key or not column:
            raise PrefLensError(f"--map {item!r}: expected FIELD=COLUMN, e.g. prompt=question")
        mapping[key.strip()] = column.strip()
    return mapping


def int_at_least(low: int, hint: str | None = None) -> typing.Callable[[str], int]:
    """An argparse ``type``: a whole number of at least ``low``; otherwise a one-line
    error (``hint`` after the value, default "must be at least LOW")."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value}: {hint or f'must be at least {low}'}")
        return value

    return parse


def split_filter(value: str | None) -> str | None:
    """A ``--split`` value as a filter: None (every split) for no value or "all"."""
    return None if value in (None, "all") else value
