"""Self-describing checkpoints: ``run.json`` beside the weights, and a checkpoint row."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from db import runs
from db.session import writing
from preflens import __version__
from preflens.fingerprint import model_fingerprint

REPO_ROOT = Path(__file__).resolve().parents[1]


def git_commit() -> str | None:
    """The commit of the PrefLens source tree, when it is a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def write_run_json(output: Path, kind: str, config: Any, **extra: Any) -> dict[str, Any]:
    """Write ``run.json`` into the checkpoint folder and return what was written."""
    record = {
        "kind": kind,
        "config": asdict(config) if is_dataclass(config) else dict(config),
        "preflens_version": __version__,
        "git_commit": git_commit(),
        "written_at": datetime.now(UTC).isoformat(),
        **extra,
    }
    (Path(output) / "run.json").write_text(json.dumps(record, indent=2, default=str))
    return record


def save_checkpoint(
    make_session: sessionmaker[Session],
    trainer: Any,
    tokenizer: Any,
    output: Path,
    kind: str,
    config: Any,
    **record: Any,
) -> int:
    """Save the trained weights, the tokenizer and ``run.json`` into ``output`` and record
    the checkpoint in the store; returns the checkpoint's id."""
    trainer.save_model(str(output))
    tokenizer.save_pretrained(str(output))
    written = write_run_json(output, kind, config, **record)
    with writing(make_session) as session:
        ckpt = runs.checkpoint_for(
            session,
            str(Path(output).resolve()),
            name=Path(output).name,
            kind=kind,
            fingerprint=model_fingerprint(str(output)),
            base=record.get("base_model_path"),
            config=written,
        )
        return ckpt.id
