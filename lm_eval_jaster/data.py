"""Built splits: build once from the raw files, cache as JSON, hand to lm-eval through ``custom_dataset``."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from lm_eval_jaster import settings
from lm_eval_jaster.datasets.base import (SPLITS, DatasetInfo, Sample, SplitCandidates, Splits,
                                          render_llm_jp_eval_json, sha256_text)
from lm_eval_jaster.files import atomic_write_text
from lm_eval_jaster.registry import all_datasets, get_dataset
from lm_eval_jaster.sources import (CacheNotWritableError, DataNotFoundError, JasterDataError, SourceFiles,
                                    cache_lock, cache_root, file_digests, file_status, resolve_data_dir,
                                    source_entries)

logger = logging.getLogger("lm_eval.jaster")

# Bump whenever a builder's output can change: cached splits of older formats are never read.
DATA_FORMAT_VERSION = 1


def unpinned_key(info: DatasetInfo, data_dir: str | os.PathLike | None = None, download: bool = True) -> str:
    """For a source with raw files that have no pinned checksum, a digest of those files as they are here (located,
    and downloaded if needed and ``download``), so that a changed upstream file gives a new cache entry; "" for
    fully pinned sources. Raises a JasterDataError when such a file is not here."""
    unpinned = [e for e in source_entries(info.source) if not e.pinned]
    if not unpinned:
        return ""
    files = SourceFiles(info.source, data_dir)
    combined = hashlib.sha256()
    for entry in unpinned:
        if download:
            path = files.path(entry.upstream_path)
        else:
            status = file_status(entry, files.data_dir)
            if not status.ok:
                raise DataNotFoundError(f"{status.path}: {status.state}")
            path = status.path
        combined.update(f"{entry.upstream_path}\0{file_digests(path)[0]}\0".encode())
    return combined.hexdigest()[:16]


def split_cache_path(info: DatasetInfo | str, data_dir: str | os.PathLike | None = None, download: bool = True) -> Path:
    info = get_dataset(info) if isinstance(info, str) else info
    key = unpinned_key(info, data_dir, download)
    return cache_root() / "splits" / f"v{DATA_FORMAT_VERSION}" / (f"{info.name}-{key}.json" if key else
                                                                   f"{info.name}.json")


def _splits_json(splits_payload: dict) -> str:
    return json.dumps(splits_payload, ensure_ascii=False, separators=(",", ":"))


def _read_cache(path: Path) -> Splits | None:
    """The cached splits, or None when absent, of another format, of the wrong shape or failing their checksum."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(payload, dict) or payload.get("format") != DATA_FORMAT_VERSION:
            raise ValueError("not a split cache of this version")
        digest = hashlib.sha256(_splits_json(payload["splits"]).encode("utf-8")).hexdigest()
        if digest != payload["sha256"]:
            raise ValueError("checksum mismatch")
        return {split: [Sample(*pair) for pair in payload["splits"][split]] for split in SPLITS}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        logger.warning("Ignoring a corrupted cached split file %s (%s); rebuilding it.", path, e)
        return None


def _write_cache(path: Path, name: str, splits: Splits) -> None:
    splits_json = _splits_json({split: [[s.input, s.output] for s in splits[split]] for split in SPLITS})
    digest = hashlib.sha256(splits_json.encode("utf-8")).hexdigest()
    atomic_write_text(path, f'{{"format":{DATA_FORMAT_VERSION},"dataset":{json.dumps(name)},"sha256":"{digest}",'
                            f'"splits":{splits_json}}}')


def cached_splits(info: DatasetInfo | str, data_dir: str | os.PathLike | None = None) -> Splits | None:
    """The built splits if they are in the cache (nothing is built or downloaded; unpinned sources need their raw
    files to be here to find their cache entry)."""
    info = get_dataset(info) if isinstance(info, str) else info
    try:
        return _read_cache(split_cache_path(info, data_dir, download=False))
    except JasterDataError:  # raw files of an unpinned source missing: nothing cached to find
        return None


def build_splits(info: DatasetInfo | str, data_dir: str | os.PathLike | None = None, use_cache: bool = True) -> Splits:
    """train/dev/test exactly as llm-jp-eval writes them; served from the cache when already built."""
    info = get_dataset(info) if isinstance(info, str) else info
    if not use_cache:
        return _build(info, data_dir)
    try:
        cache_path = split_cache_path(info, data_dir)
        if (cached := _read_cache(cache_path)) is not None:
            return cached
        with cache_lock(f"splits/{info.name}"):
            if (cached := _read_cache(cache_path)) is not None:  # built by another process while we waited
                return cached
            splits = _build(info, data_dir)
            _try_write_cache(cache_path, info, splits)
        _cache_siblings(info, data_dir)
        return splits
    except CacheNotWritableError as e:
        if resolve_data_dir(data_dir) is None:
            raise  # downloads need a writable cache
        logger.warning("%s Building %s without caching.", e, info.name)
        return _build(info, data_dir)


def _try_write_cache(path: Path, info: DatasetInfo, splits: Splits) -> None:
    try:
        _write_cache(path, info.name, splits)
    except OSError as e:
        logger.warning("Could not cache the built splits of %s at %s (%s); they will be rebuilt next time.",
                       info.name, path, e)


def _cache_siblings(info: DatasetInfo, data_dir: str | os.PathLike | None) -> None:
    """Cache the other datasets of the same source while its parse is warm (e.g. the five wiki_* tasks share one
    parse of the corpus), so that a later process needing one of them parses nothing."""
    for sibling in all_datasets().values():
        if sibling.source != info.source or sibling.name == info.name:
            continue
        try:
            path = split_cache_path(sibling, data_dir)
            if _read_cache(path) is not None:
                continue
            with cache_lock(f"splits/{sibling.name}"):
                if _read_cache(path) is None:
                    _try_write_cache(path, sibling, _build(sibling, data_dir))
        except Exception as e:  # a sibling is a bonus: never fail the dataset that was asked for
            logger.warning("Could not prepare %s alongside %s (%s); it will be built when needed.",
                           sibling.name, info.name, e)


def choose_candidate(info: DatasetInfo, candidates: SplitCandidates) -> Splits:
    """The candidate whose dev file has llm-jp-eval's published sha256; else the first one, with a warning."""
    for label, splits in candidates.items():
        if sha256_text(render_llm_jp_eval_json(info, splits["dev"])) == info.published_dev_sha256:
            logger.info("%s: reading '%s' reproduces llm-jp-eval's published dev file", info.name, label)
            return splits
    label = next(iter(candidates))
    logger.warning("%s: no reading of the upstream files (%s) reproduces llm-jp-eval's published dev file; using "
                   "'%s': the same samples overall, but not llm-jp-eval's assignment to train/dev/test.",
                   info.name, ", ".join(candidates), label)
    return candidates[label]


def _build(info: DatasetInfo, data_dir: str | os.PathLike | None) -> Splits:
    started = time.perf_counter()
    logger.info("Building Jaster dataset %s from its upstream files ...", info.name)
    splits = info.build(SourceFiles(info.source, data_dir))
    if isinstance(splits, SplitCandidates):
        splits = choose_candidate(info, splits)
    missing = [s for s in SPLITS if s not in splits]
    if missing:
        raise RuntimeError(f"builder of {info.name} returned no {missing} split")
    logger.info("Built %s (%s) in %.1f s", info.name,
                ", ".join(f"{s} {len(splits[s])}" for s in SPLITS), time.perf_counter() - started)
    return splits


def load_jaster(jaster_dataset: str, **metadata: Any):
    """lm-eval ``custom_dataset`` hook: ``train`` (few-shot pool), ``dev``, ``test`` and ``eval`` (the split scored).

    lm-eval passes the task metadata, every ``--model_args`` key and every ``--metadata`` key here; the
    ``jaster_*`` ones are read by :mod:`lm_eval_jaster.settings` (split, data_dir).
    """
    import datasets  # heavy; only when a task is built

    resolved = settings.resolve(metadata)
    info = get_dataset(jaster_dataset)
    splits = build_splits(info, resolved.data_dir)

    def to_dataset(samples: list[Sample], split: str):
        return datasets.Dataset.from_dict({
            "input": [s.input for s in samples],
            "output": [s.output for s in samples],
            "instruction": [info.instruction] * len(samples),
            "split": [split] * len(samples),
            "jaster_dataset": [info.name] * len(samples),
        })

    built = {split: to_dataset(splits[split], split) for split in SPLITS}
    built["eval"] = built[resolved.split]
    return datasets.DatasetDict(built)
