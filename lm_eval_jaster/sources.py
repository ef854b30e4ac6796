"""Raw upstream files: locate (local mirror or cache), download, verify. The only module that touches the network.

Every file llm-jp-eval downloads is listed in ``manifest.tsv`` with its URL and checksum. A file is used only
after its sha256 (or, where only that is known, its git blob sha1) matches. Downloads go to a temporary file
that is renamed into the cache only once verified, so the cache never holds a partial or wrong file.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import functools
import hashlib
import http.client
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock

from lm_eval_jaster import settings
from lm_eval_jaster.errors import JasterError
from lm_eval_jaster.files import atomic_output, atomic_write_text

logger = logging.getLogger("lm_eval.jaster")

MANIFEST_PATH = Path(__file__).with_name("manifest.tsv")
DATA_DIR_ENV = "JASTER_DATA_DIR"
CACHE_DIR_ENV = "JASTER_CACHE_DIR"
DOWNLOAD_TIMEOUT_S = 60


class JasterDataError(JasterError, RuntimeError):
    """Base class of the data layer's errors; messages say what to do."""


class DataNotFoundError(JasterDataError):
    pass


class IntegrityError(JasterDataError):
    pass


class DownloadError(JasterDataError):
    pass


@dataclass(frozen=True)
class FileEntry:
    source: str
    upstream_path: str
    url: str
    sha256: str  # "" when unknown
    git_blob_sha1: str  # "" when unknown

    @property
    def pinned(self) -> bool:
        return bool(self.sha256 or self.git_blob_sha1)


@functools.lru_cache(maxsize=1)
def manifest() -> dict[tuple[str, str], FileEntry]:
    """(source, upstream_path) → FileEntry, read once from the packaged manifest.tsv."""
    with MANIFEST_PATH.open(encoding="utf-8", newline="") as f:
        return {(r["source"], r["upstream_path"]): FileEntry(r["source"], r["upstream_path"], r["url"], r["sha256"],
                                                             r["git_blob_sha1"])
                for r in csv.DictReader(f, delimiter="\t")}


def cache_root() -> Path:
    """``$JASTER_CACHE_DIR``, else ``$XDG_CACHE_HOME/lm_eval_jaster`` (default ``~/.cache/lm_eval_jaster``)."""
    chosen = settings.get("cache_dir")
    if chosen:
        return Path(chosen)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lm_eval_jaster"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """An explicit mirror directory, else ``$JASTER_DATA_DIR``, else None (download)."""
    chosen = data_dir or settings.get("data_dir")
    if not chosen:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise DataNotFoundError(f"Jaster data directory {path} (from {'jaster_data_dir' if data_dir else DATA_DIR_ENV}) "
                                f"does not exist or is not a directory.",
                                "Point it at a folder laid out as <dir>/<source>/<upstream path>, or unset it to "
                                "download.")
    return path


_digest_lock = threading.Lock()
_digest_memo: dict[str, list] | None = None
_digest_memo_new: dict[str, list] = {}


def _digest_memo_path() -> Path:
    return cache_root() / "file_digests.json"


def _read_digest_memo() -> dict[str, list]:
    try:
        memo = json.loads(_digest_memo_path().read_text(encoding="utf-8"))
        return memo if isinstance(memo, dict) else {}
    except (OSError, ValueError):
        return {}


def flush_digest_memo() -> None:
    """Merge the digests computed by this process into the cache folder's memo (at exit, or when asked)."""
    global _digest_memo
    with _digest_lock:
        if not _digest_memo_new:
            return
        memo = _read_digest_memo()
        memo.update(_digest_memo_new)
        try:
            atomic_write_text(_digest_memo_path(), json.dumps(memo, separators=(",", ":")))
        except OSError:
            pass  # a read-only cache only costs a re-read next time
        _digest_memo_new.clear()
        _digest_memo = memo


atexit.register(flush_digest_memo)


def file_digests(path: Path) -> tuple[str, str]:
    """(sha256, git blob sha1) of a file. Remembered in the cache folder by (path, size, mtime), so an unchanged
    file is read once, not at every run."""
    global _digest_memo
    path = Path(path)
    stat = path.stat()
    key = f"{os.path.realpath(path)}|{stat.st_size}|{stat.st_mtime_ns}"
    with _digest_lock:
        if _digest_memo is None:
            _digest_memo = _read_digest_memo()
        known = _digest_memo_new.get(key) or _digest_memo.get(key)
    if isinstance(known, list) and len(known) == 2 and all(isinstance(x, str) for x in known):
        return known[0], known[1]
    sha256 = hashlib.sha256()
    blob = hashlib.sha1(f"blob {stat.st_size}\0".encode())
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha256.update(chunk)
            blob.update(chunk)
    digests = (sha256.hexdigest(), blob.hexdigest())
    with _digest_lock:
        _digest_memo_new[key] = list(digests)
    return digests


_unpinned_warned: set[str] = set()


def verify(path: Path, entry: FileEntry) -> None:
    """Raise IntegrityError unless the file matches the manifest (files without a pinned checksum pass, with a
    warning once per file)."""
    if not entry.pinned:
        if str(path) not in _unpinned_warned:
            _unpinned_warned.add(str(path))
            logger.warning("%s has no pinned checksum in lm-eval-jaster's manifest; it is used unverified (check the "
                           "dataset's dev export against the published hash: `lm-eval-jaster export --split dev`).",
                           path)
        return
    sha256, blob = file_digests(path)
    if entry.sha256:
        expected, actual, kind = entry.sha256, sha256, "sha256"
    else:
        expected, actual, kind = entry.git_blob_sha1, blob, "git blob sha1"
    if actual != expected:
        raise IntegrityError(f"{path}: {kind} mismatch: expected {expected}, got {actual}.",
                             f"This is not the file llm-jp-eval uses ({entry.url}): replace it with that file.")


class CacheNotWritableError(JasterDataError):
    pass


@contextlib.contextmanager
def cache_lock(name: str) -> Iterator[None]:
    """Inter-process lock ``<cache>/locks/<name>.lock``: one process builds or downloads, the others wait and reuse.

    Raises CacheNotWritableError when the cache folder cannot be written.
    """
    lock_path = cache_root() / "locks" / f"{name}.lock"
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(lock_path))
        lock.acquire()
    except OSError as e:
        raise CacheNotWritableError(
            f"The Jaster cache folder {cache_root()} is not writable ({e}).",
            f"Set {CACHE_DIR_ENV} to a writable folder, or {DATA_DIR_ENV} to a local mirror of the raw files.") from e
    try:
        yield
    finally:
        lock.release()


def source_entries(source: str) -> list[FileEntry]:
    """Every raw file of a source (its datasets need all of them), in manifest order."""
    return [e for (s, _), e in manifest().items() if s == source]


def local_root(data_dir: Path | None) -> Path:
    """Where raw files are kept: a mirror (``<data_dir>/<source>/<upstream path>``), else the cache's ``raw/``."""
    return data_dir if data_dir is not None else cache_root() / "raw"


def local_path(entry: FileEntry, data_dir: Path | None) -> Path:
    return local_root(data_dir) / entry.source / entry.upstream_path


@dataclass(frozen=True)
class FileStatus:
    entry: FileEntry
    state: str  # "present", "missing" (mirror), "not downloaded" (cache), "corrupt"
    path: Path  # where it is, or where it belongs
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "present"


def file_status(entry: FileEntry, data_dir: Path | None) -> FileStatus:
    """Where a raw file is and whether it is the right file (sha256 where pinned); nothing is downloaded."""
    path = local_path(entry, data_dir)
    if not path.is_file():
        return FileStatus(entry, "missing" if data_dir is not None else "not downloaded", path)
    try:
        verify(path, entry)
    except IntegrityError as e:
        return FileStatus(entry, "corrupt", path, e.message)
    return FileStatus(entry, "present", path)


class SourceFiles:
    """RawFiles for one source: from a local mirror (``<data_dir>/<source>/<upstream_path>``) or downloaded."""

    def __init__(self, source: str, data_dir: str | os.PathLike | None = None):
        self.source = source
        self.data_dir = resolve_data_dir(data_dir)

    def __repr__(self) -> str:
        return f"SourceFiles({self.source!r}, data_dir={str(self.data_dir) if self.data_dir else None!r})"

    def entry(self, upstream_path: str) -> FileEntry:
        try:
            return manifest()[(self.source, upstream_path)]
        except KeyError:
            raise JasterDataError(f"{self.source}/{upstream_path} is not in lm-eval-jaster's manifest "
                                  f"({MANIFEST_PATH}); this is a bug in the dataset module.") from None

    def path(self, upstream_path: str) -> Path:
        entry = self.entry(upstream_path)
        if self.data_dir is not None:
            local = local_path(entry, self.data_dir)
            if not local.is_file():
                raise DataNotFoundError(
                    f"{local} is missing from the Jaster data directory {self.data_dir}.",
                    f"Download {entry.url} to that path (or run `lm-eval-jaster data download --to "
                    f"{self.data_dir}` where there is internet), or unset {DATA_DIR_ENV} to download into the cache.")
            verify(local, entry)
            return local
        cached = local_path(entry, None)
        if self._cached_and_valid(cached, entry):
            return cached
        with cache_lock(f"raw/{self.source}/{upstream_path}"):
            if not self._cached_and_valid(cached, entry):  # another process may have fetched it meanwhile
                download(entry, cached)
        return cached

    @staticmethod
    def _cached_and_valid(cached: Path, entry: FileEntry) -> bool:
        if not cached.is_file():
            return False
        try:
            verify(cached, entry)
            return True
        except IntegrityError as e:
            logger.warning("Discarding a corrupted cached file (it will be downloaded again): %s", e)
            cached.unlink(missing_ok=True)
            return False


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def download(entry: FileEntry, dest: Path, progress: Callable[[int, int | None], None] | None = None) -> None:
    """Fetch entry.url into dest: a temporary file in the same folder, verified, then renamed. Progress is logged
    every few seconds (or reported to ``progress(done_bytes, total_bytes)``)."""
    logger.info("Downloading %s", entry.url)

    def verified(tmp: Path) -> None:
        try:
            verify(tmp, entry)
        except IntegrityError as e:
            raise IntegrityError(f"Downloaded {entry.url}: {e.message}", e.hint) from None

    with atomic_output(dest, verify=verified) as out:
        try:
            with urllib.request.urlopen(entry.url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                expected = response.headers.get("Content-Length")
                total = int(expected) if expected is not None and expected.isdigit() else None
                done, last = 0, time.monotonic()
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
                    elif time.monotonic() - last > 5:
                        last = time.monotonic()
                        logger.info("  %s: %s%s", entry.upstream_path, _megabytes(done),
                                    f" of {_megabytes(total)}" if total else "")
                if total is not None and done != total:
                    raise OSError(f"truncated download: connection closed after {done} of {total} bytes")
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            raise DownloadError(
                f"Could not download {entry.url} ({e}).",
                f"Offline? Put the file at <dir>/{entry.source}/{entry.upstream_path} and set {DATA_DIR_ENV}=<dir> "
                f"(`lm-eval-jaster data download --to <dir>` on a machine with internet writes that layout).") from e
