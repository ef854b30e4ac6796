"""Built splits: build once from the raw files, cache as JSON, hand to lm-eval through ``custom_dataset``."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from lm_eval_jaster.datasets.base import SPLITS, DatasetInfo, Sample, Splits
from lm_eval_jaster.registry import all_datasets, get_dataset
from lm_eval_jaster.sources import CacheNotWritableError, SourceFiles, cache_lock, cache_root

logger = logging.getLogger("lm_eval.jaster")

# Bump whenever a builder's output can change: cached splits of older formats are never read.
DATA_FORMAT_VERSION = 1
SPLIT_ENV = "JASTER_SPLIT"
DEFAULT_EVAL_SPLIT = "dev"  # llm-jp-eval's default data_type


def split_cache_path(name: str) -> Path:
    return cache_root() / "splits" / f"v{DATA_FORMAT_VERSION}" / f"{name}.json"


def _splits_json(splits_payload: dict) -> str:
    return json.dumps(splits_payload, ensure_ascii=False, separators=(",", ":"))


def _read_cache(path: Path) -> Splits | None:
    """The cached splits, or None when absent, of another format, unreadable or failing their checksum."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("format") != DATA_FORMAT_VERSION:
            return None
        digest = hashlib.sha256(_splits_json(payload["splits"]).encode("utf-8")).hexdigest()
        if digest != payload["sha256"]:
            raise ValueError("checksum mismatch")
        return {split: [Sample(*pair) for pair in payload["splits"][split]] for split in SPLITS}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        logger.warning("Ignoring a corrupted cached split file %s (%s); rebuilding it.", path, e)
        return None


def _write_cache(path: Path, name: str, splits: Splits) -> None:
    """Atomic write: a temporary file in the same folder, renamed when complete."""
    splits_json = _splits_json({split: [[s.input, s.output] for s in splits[split]] for split in SPLITS})
    digest = hashlib.sha256(splits_json.encode("utf-8")).hexdigest()
    text = (f'{{"format":{DATA_FORMAT_VERSION},"dataset":{json.dumps(name)},"sha256":"{digest}",'
            f'"splits":{splits_json}}}')
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def build_splits(info: DatasetInfo | str, data_dir: str | os.PathLike | None = None, use_cache: bool = True) -> Splits:
    """train/dev/test exactly as llm-jp-eval writes them; served from the cache when already built."""
    info = get_dataset(info) if isinstance(info, str) else info
    if not use_cache:
        return _build(info, data_dir)
    cache_path = split_cache_path(info.name)
    if (cached := _read_cache(cache_path)) is not None:
        return cached
    try:
        with cache_lock(f"splits/{info.name}"):
            if (cached := _read_cache(cache_path)) is not None:  # built by another process while we waited
                return cached
            splits = _build(info, data_dir)
            _try_write_cache(info, splits)
        _cache_siblings(info, data_dir)
        return splits
    except CacheNotWritableError as e:
        if data_dir is None and not os.environ.get("JASTER_DATA_DIR"):
            raise  # downloads need a writable cache
        logger.warning("%s Building %s without caching.", e, info.name)
        return _build(info, data_dir)


def _try_write_cache(info: DatasetInfo, splits: Splits) -> None:
    path = split_cache_path(info.name)
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
        if _read_cache(split_cache_path(sibling.name)) is not None:
            continue
        try:
            with cache_lock(f"splits/{sibling.name}"):
                if _read_cache(split_cache_path(sibling.name)) is None:
                    _try_write_cache(sibling, _build(sibling, data_dir))
        except Exception as e:  # a sibling is a bonus: never fail the dataset that was asked for
            logger.warning("Could not prepare %s alongside %s (%s); it will be built when needed.",
                           sibling.name, info.name, e)


def _build(info: DatasetInfo, data_dir: str | os.PathLike | None) -> Splits:
    started = time.perf_counter()
    logger.info("Building Jaster dataset %s from its upstream files ...", info.name)
    splits = info.build(SourceFiles(info.source, data_dir))
    missing = [s for s in SPLITS if s not in splits]
    if missing:
        raise RuntimeError(f"builder of {info.name} returned no {missing} split")
    logger.info("Built %s (%s) in %.1f s", info.name,
                ", ".join(f"{s} {len(splits[s])}" for s in SPLITS), time.perf_counter() - started)
    return splits


def resolve_eval_split(jaster_split: str | None = None) -> str:
    split = jaster_split or os.environ.get(SPLIT_ENV) or DEFAULT_EVAL_SPLIT
    if split not in ("dev", "test"):
        raise ValueError(f"jaster_split must be 'dev' or 'test' (llm-jp-eval's data_type), got {split!r}")
    return split


def load_jaster(jaster_dataset: str, jaster_data_dir: str | None = None, jaster_split: str | None = None,
                **_ignored: Any):
    """lm-eval ``custom_dataset`` hook: ``train`` (few-shot pool), ``dev``, ``test`` and ``eval`` (the split scored).

    lm-eval passes the task metadata, every ``--model_args`` key and every ``--metadata`` key here, hence
    ``**_ignored``. ``--metadata '{"jaster_split": "test", "jaster_data_dir": "/mirror"}'`` are ours.
    """
    import datasets  # heavy; only when a task is built

    info = get_dataset(jaster_dataset)
    splits = build_splits(info, jaster_data_dir)
    eval_split = resolve_eval_split(jaster_split)

    def to_dataset(samples: list[Sample], split: str):
        return datasets.Dataset.from_dict({
            "input": [s.input for s in samples],
            "output": [s.output for s in samples],
            "instruction": [info.instruction] * len(samples),
            "split": [split] * len(samples),
        })

    built = {split: to_dataset(splits[split], split) for split in SPLITS}
    built["eval"] = built[eval_split]
    return datasets.DatasetDict(built)
