"""Who owns a running run: ``host:pid`` of the process writing it and its heartbeat, and
how a run's status is shown (``interrupted`` when its owner is gone). Shared by the write
path (``db.runs``) and the read queries, so it imports neither."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from db.schema import Run

# Across hosts a pid cannot be checked: an owner silent this long is taken as gone.
STALE_AFTER_S = 600.0


def now() -> datetime:
    return datetime.now(UTC)


def owner_id() -> str:
    """``host:pid`` of this process: who owns the runs it opens."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str | None, heartbeat: datetime | None) -> bool:
    """Whether the process named by ``owner`` still runs: checked by pid on this host,
    by a recent heartbeat elsewhere."""
    if not owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    if heartbeat is None:
        return False
    beat = heartbeat if heartbeat.tzinfo else heartbeat.replace(tzinfo=UTC)
    return (now() - beat).total_seconds() < STALE_AFTER_S


def shown_status(run: Run) -> str:
    """The status to show: a running run whose owner is gone is ``interrupted`` (rerun
    the same command to resume it)."""
    if run.status == "running" and not owner_alive(run.owner, run.heartbeat_at):
        return "interrupted"
    return run.status
