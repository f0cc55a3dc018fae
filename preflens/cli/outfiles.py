"""Output files of ``preflens export`` and ``preflens report``: checked before any work
starts, then written to a temporary file in the same folder and renamed over the target
at the end, so a failed or interrupted write never destroys the file it was to replace.

A target that exists and is not a regular file (``/dev/null``, ``/dev/full``, a FIFO)
is written in place: renaming over a device would replace the device. Such a write can
still fail late (``/dev/full`` says "no space left" only when written to); the error is
reported as one line all the same."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from preflens.errors import OutputError


def output_path(text: str) -> Path:
    """An ``-o`` value as a path (the empty string is refused: it names no file)."""
    if not text.strip():
        raise OutputError("the output file name is empty; give a file, e.g. -o run.csv")
    return Path(text)


def check_output(path: Path) -> None:
    """``OutputError`` unless ``path`` can be written: not a folder, its folder exists
    and is writable, and an existing file there is writable."""
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name inside it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: folder {folder} does not exist")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise OutputError(f"cannot write {path}: permission denied")
        if not _regular(path):
            return  # written in place: the folder's permissions do not matter
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: no permission to create files in {folder}")


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True  # a dangling link or a race: treat as a file to be replaced


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield the path to write to; on success it replaces ``path`` (a temporary file in
    the same folder, renamed), on any error it is removed and ``path`` is untouched.
    An ``OSError`` becomes a one-line ``OutputError``."""
    if path.exists() and not _regular(path):
        try:
            yield path
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if path.exists():  # keep the replaced file's permissions
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
