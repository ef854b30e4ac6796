"""Removing what a process-mode sample left in its host work folder: bounded in time, never raising.

(In bwrap mode the work directory is a tmpfs that disappears with the sandbox: nothing is left on the host.)
"""

from __future__ import annotations

import logging
import os
import time

logger = logging.getLogger("lm_eval.jaster")

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove_tree(path: str, *, max_entries: int = 200_000, max_seconds: float = 10.0) -> bool:
    """Delete ``path`` and everything below it; True when it is gone.

    Never raises and never recurses: subdirectories are moved up into ``path`` before they are emptied, so a tree
    of any depth costs two open descriptors. Directories without permissions are opened up first. It stops after
    ``max_entries`` entries or ``max_seconds`` (a flood of files left by code that escaped the audit hook) and
    logs what is left.
    """
    try:
        done = _remove_tree(os.path.abspath(path), max_entries, time.monotonic() + max_seconds)
    except Exception as e:  # pylint: disable=broad-exception-caught  # must never abort the evaluation
        logger.warning("Could not remove the sandbox folder %s: %r", path, e)
        return False
    if not done:
        logger.warning("Left the sandbox folder %s behind: it holds more than %d entries or took longer than "
                       "%gs to remove.", path, max_entries, max_seconds)
    return done


def _open_dir(name: str, dir_fd: int) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except PermissionError:
        os.chmod(name, 0o700, dir_fd=dir_fd)
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)


def _remove_tree(path: str, max_entries: int, deadline: float) -> bool:
    parent, top_name = os.path.split(path)
    parent_fd = os.open(parent or "/", _DIR_FLAGS)
    try:
        try:
            top_fd = _open_dir(top_name, parent_fd)
        except FileNotFoundError:
            return True
        try:
            if not _empty_top(top_fd, max_entries, deadline):
                return False
        finally:
            os.close(top_fd)
        os.rmdir(top_name, dir_fd=parent_fd)
        return True
    finally:
        os.close(parent_fd)


def _empty_top(top_fd: int, max_entries: int, deadline: float) -> bool:
    """Empty the top folder: each directory found anywhere is first renamed to a fresh name in it."""
    pending = [None]  # None: the top folder itself; else a name in it
    counter = 0
    seen = 0
    while pending:
        name = pending.pop()
        fd = top_fd if name is None else _open_dir(name, top_fd)
        try:
            with os.scandir(fd) as entries:
                listing = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
            for entry, is_dir in listing:
                seen += 1
                if seen > max_entries or (seen % 256 == 0 and time.monotonic() > deadline):
                    return False
                if not is_dir:
                    os.unlink(entry, dir_fd=fd)
                    continue
                if name is None:
                    pending.append(entry)
                    continue
                counter += 1
                moved = f".jaster_rm_{counter}"
                while _exists(moved, top_fd):
                    counter += 1
                    moved = f".jaster_rm_{counter}"
                try:
                    os.rename(entry, moved, src_dir_fd=fd, dst_dir_fd=top_fd)
                except PermissionError:  # renaming a directory across parents needs write permission on it
                    os.chmod(entry, 0o700, dir_fd=fd)
                    os.rename(entry, moved, src_dir_fd=fd, dst_dir_fd=top_fd)
                pending.append(moved)
        finally:
            if name is not None:
                os.close(fd)
        if name is not None:
            os.rmdir(name, dir_fd=top_fd)
    return True


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True
