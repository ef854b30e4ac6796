"""Atomic file writes: a temporary file beside the target, renamed over it only when complete (and verified)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_output(path: Path, verify: Callable[[Path], None] | None = None) -> Iterator[IO[bytes]]:
    """A binary file to write ``path``'s new content to. When the block ends without error (and ``verify(temp)``
    passes), it replaces ``path`` atomically; otherwise it is removed and ``path`` is untouched. A unique temporary
    name per writer, so that concurrent writers of one path never collide (the last rename wins)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        if verify is not None:
            verify(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode open() would
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_output(path) as out:
        out.write(text.encode("utf-8"))
