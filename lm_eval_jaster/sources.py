"""Raw upstream files: locate (local mirror or cache), download, verify. The only module that touches the network.

Every file llm-jp-eval downloads is listed in ``manifest.tsv`` with its URL and checksum. A file is used only
after its sha256 (or, where only that is known, its git blob sha1) matches. Downloads go to a temporary file
that is renamed into the cache only once verified, so the cache never holds a partial or wrong file.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import http.client
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from filelock import FileLock

logger = logging.getLogger("lm_eval.jaster")

MANIFEST_PATH = Path(__file__).with_name("manifest.tsv")
DATA_DIR_ENV = "JASTER_DATA_DIR"
CACHE_DIR_ENV = "JASTER_CACHE_DIR"
DOWNLOAD_TIMEOUT_S = 60


class JasterDataError(RuntimeError):
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
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lm_eval_jaster"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """An explicit mirror directory, else ``$JASTER_DATA_DIR``, else None (download)."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV)
    if not chosen:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise DataNotFoundError(f"Jaster data directory {path} (from {'jaster_data_dir' if data_dir else DATA_DIR_ENV}) "
                                f"does not exist or is not a directory.")
    return path


def file_digests(path: Path) -> tuple[str, str]:
    """(sha256, git blob sha1) of a file, read once."""
    sha256 = hashlib.sha256()
    blob = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha256.update(chunk)
            blob.update(chunk)
    return sha256.hexdigest(), blob.hexdigest()


def verify(path: Path, entry: FileEntry) -> None:
    """Raise IntegrityError unless the file matches the manifest (files without a pinned checksum pass, with a warning)."""
    if not entry.pinned:
        logger.warning("%s has no pinned checksum in lm-eval-jaster's manifest; it is used unverified "
                       "(check the dataset's dev export against the published hash: `lm-eval-jaster export --split dev`).",
                       path)
        return
    sha256, blob = file_digests(path)
    if entry.sha256:
        expected, actual, kind = entry.sha256, sha256, "sha256"
    else:
        expected, actual, kind = entry.git_blob_sha1, blob, "git blob sha1"
    if actual != expected:
        raise IntegrityError(f"{path}: {kind} mismatch: expected {expected}, got {actual}. "
                             f"This is not the file llm-jp-eval uses ({entry.url}). Replace it with that file.")


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
            f"The Jaster cache folder {cache_root()} is not writable ({e}). Set {CACHE_DIR_ENV} to a writable folder, "
            f"or {DATA_DIR_ENV} to a local mirror of the raw files.") from e
    try:
        yield
    finally:
        lock.release()


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
            local = self.data_dir / self.source / upstream_path
            if not local.is_file():
                raise DataNotFoundError(
                    f"{local} is missing from the Jaster data directory {self.data_dir}. Download {entry.url} to that "
                    f"path, or unset {DATA_DIR_ENV} (and jaster_data_dir) to let lm-eval-jaster download it.")
            verify(local, entry)
            return local
        cached = cache_root() / "raw" / self.source / upstream_path
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


def download(entry: FileEntry, dest: Path) -> None:
    """Fetch entry.url into dest: temporary file in the same folder, verify, then atomic rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    logger.info("Downloading %s", entry.url)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(entry.url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                    shutil.copyfileobj(response, out, 1 << 20)
                    expected = response.headers.get("Content-Length")
                    if expected is not None and expected.isdigit() and out.tell() != int(expected):
                        raise OSError(f"truncated download: connection closed after {out.tell()} of {expected} bytes")
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
                raise DownloadError(
                    f"Could not download {entry.url} ({e}). Offline? Put the file at "
                    f"<dir>/{entry.source}/{entry.upstream_path} and set {DATA_DIR_ENV}=<dir> "
                    f"(or --metadata '{{\"jaster_data_dir\": \"<dir>\"}}').") from e
        try:
            verify(tmp, entry)
        except IntegrityError as e:
            raise IntegrityError(f"Downloaded {entry.url}: {e}") from None
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
