"""Checks before the model is loaded: settings, raw data of every requested dataset, optional packages.

``lm-eval-jaster`` runs :func:`check_run` after lm-eval has resolved ``--tasks`` and before it builds the model, so
that a missing file, a misspelt key or an unusable sandbox costs seconds, not a model load. With
``jaster_missing: skip`` the datasets whose files are missing are left out (:func:`skip_tasks`) instead.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from lm_eval_jaster import groups, settings
from lm_eval_jaster.data import cached_splits
from lm_eval_jaster.datasets.base import DatasetInfo
from lm_eval_jaster.errors import JasterError
from lm_eval_jaster.registry import all_datasets, dataset_for_task
from lm_eval_jaster.sources import (DATA_DIR_ENV, DownloadError, FileStatus, JasterDataError, SourceFiles,
                                    file_status, resolve_data_dir, source_entries)

logger = logging.getLogger("lm_eval.jaster")

API_PACKAGES = ("tenacity", "aiohttp", "requests", "tqdm")  # lm-eval's [api] extra, as TemplateAPI checks it


class DataMissingError(JasterError):
    """Raw files of requested datasets are not available; the message lists every one."""


@dataclass
class DataCheck:
    datasets: list[DatasetInfo]  # requested Jaster datasets, registry order
    missing: dict[str, list[FileStatus]] = field(default_factory=dict)  # source → files not available
    data_dir: Path | None = None

    def datasets_missing(self) -> list[DatasetInfo]:
        return [i for i in self.datasets if i.source in self.missing]

    def available(self) -> list[DatasetInfo]:
        return [i for i in self.datasets if i.source not in self.missing]


def requested_datasets(task_names: Iterable[Any]) -> list[DatasetInfo]:
    """The Jaster datasets behind task and group names (other names and inline configs are not ours)."""
    wanted = {dataset_for_task(task).name for name in task_names if isinstance(name, str)
              for task in groups.leaf_tasks(name)}
    return [info for name, info in all_datasets().items() if name in wanted]


def check_data(datasets: list[DatasetInfo], data_dir: str | Path | None = None, download: bool = True) -> DataCheck:
    """Which raw files of ``datasets`` are not available. Datasets already built in the cache need nothing; without a
    mirror, files not yet in the cache are downloaded now (``download``), so that failures show before the model
    loads. After the first network failure no further download is tried."""
    mirror = resolve_data_dir(data_dir)
    check = DataCheck(datasets, data_dir=mirror)
    offline = False
    for source in dict.fromkeys(i.source for i in datasets):
        members = [i for i in datasets if i.source == source]
        if all(cached_splits(i, mirror) is not None for i in members):
            continue
        for entry in source_entries(source):
            status = file_status(entry, mirror)
            if status.ok:
                continue
            if mirror is None and download and not offline and status.state in ("not downloaded", "corrupt"):
                try:
                    SourceFiles(source).path(entry.upstream_path)
                    continue
                except DownloadError as e:
                    offline = "urlopen error" in e.message  # DNS / connection refused: the network is not there
                    status = FileStatus(entry, "download failed", status.path, e.message)
                except JasterDataError as e:
                    status = FileStatus(entry, "download failed", status.path, e.message)
            check.missing.setdefault(source, []).append(status)
    return check


def missing_message(check: DataCheck, what: str) -> DataMissingError:
    """One message listing every file that is not available: dataset(s), file, URL, where it belongs."""
    files = [s for statuses in check.missing.values() for s in statuses]
    lines = [f"{len(files)} raw file{'s' if len(files) != 1 else ''} needed by {what} "
             f"{'are' if len(files) != 1 else 'is'} not available (nothing was run):"]
    for source, statuses in check.missing.items():
        names = ", ".join(i.name for i in check.datasets if i.source == source)
        for status in statuses:
            state = status.state + (f": {status.detail}" if status.detail and status.state == "corrupt" else "")
            lines.append(f"  {names}: {status.entry.upstream_path} ({state})")
            lines.append(f"      {status.entry.url}")
            lines.append(f"      → {status.path}")
    datasets = ",".join(i.name for i in check.datasets_missing())
    where = (f"into {check.data_dir} ({DATA_DIR_ENV})" if check.data_dir is not None
             else "into the cache (or set JASTER_DATA_DIR to a mirror)")
    hint = (f"Fetch them where there is internet with `lm-eval-jaster data download --datasets {datasets} --to DIR` "
            f"and copy DIR's folders {where}; or run the datasets that are here with "
            f"--metadata '{{\"jaster_missing\": \"skip\"}}' (or JASTER_MISSING=skip).")
    return DataMissingError("\n".join(lines), hint)


def skip_tasks(skipped: Iterable[DatasetInfo]) -> set[str]:
    """Task and group names to leave out when ``skipped`` datasets are: their tasks and groups left empty."""
    names = {i.task_name for i in skipped}
    changed = True
    while changed:
        changed = False
        for group, members in groups.group_members().items():
            if group not in names and members and all(m in names for m in members):
                names.add(group)
                changed = True
    return names


def check_optional(datasets: list[DatasetInfo], resolved: settings.Settings, model: str | None,
                   confirm_unsafe: bool, apply_chat_template: bool = False) -> None:
    """Errors for what was asked for explicitly and cannot work (a missing optional package otherwise is a note)."""
    from lm_eval_jaster.metrics import neural

    options = neural.NeuralOptions.from_settings(resolved)
    if options.comet is True and any("comet_wmt22" in i.metrics for i in datasets):
        neural.require_comet(options)
    if confirm_unsafe and any(i.unsafe_code for i in datasets):
        from lm_eval_jaster import sandbox

        sandbox.require_available(resolved.sandbox)
    check_api_model(model, apply_chat_template)


def check_api_model(model: str | None, apply_chat_template: bool) -> None:
    """lm-eval's API backends need its [api] extra, and its chat backends need --apply_chat_template: both would
    otherwise fail only once the model is built or the first request is sent."""
    try:
        from lm_eval.api.registry import get_model
        from lm_eval.models.api_models import TemplateAPI
        from lm_eval.models.openai_completions import LocalChatCompletion

        backend = get_model(model) if model else None
    except Exception:  # an unknown or unimportable backend: lm-eval says what is wrong
        return
    if not (isinstance(backend, type) and issubclass(backend, TemplateAPI)):
        return
    absent = [p for p in API_PACKAGES if importlib.util.find_spec(p) is None]
    if absent:
        raise JasterError(f"--model {model} needs lm-eval's [api] extra; missing: {', '.join(absent)}.",
                          "pip install \"lm-eval-jaster[api]\"")
    if issubclass(backend, LocalChatCompletion) and not apply_chat_template:
        raise JasterError(f"--model {model} sends chat messages: it needs --apply_chat_template.",
                          "Add --apply_chat_template (the whole llm-jp-eval prompt then goes as one user message), "
                          "or use local-completions for llm-jp-eval v1.x's plain prompt.")


@dataclass
class RunPlan:
    """What the preflight decided for a run."""

    datasets: list[DatasetInfo]
    skipped: list[DatasetInfo] = field(default_factory=list)
    skip_names: set[str] = field(default_factory=set)
    settings: settings.Settings | None = None


def check_run(task_names: list[Any], metadata: Mapping[str, Any] | None, model: str | None = None,
              confirm_unsafe: bool = False, apply_chat_template: bool = False) -> RunPlan:
    """The preflight of a run (raises JasterError with everything that is wrong, before the model is loaded)."""
    resolved = settings.resolve(metadata)
    datasets = requested_datasets(task_names)
    plan = RunPlan(datasets, settings=resolved)
    if not datasets:
        return plan
    check_optional(datasets, resolved, model, confirm_unsafe, apply_chat_template)
    check = check_data(datasets, resolved.data_dir)
    if check.missing:
        what = ", ".join(n for n in task_names if isinstance(n, str) and groups.leaf_tasks(n)) or "these tasks"
        if resolved.missing != "skip":
            raise missing_message(check, what)
        plan.skipped = check.datasets_missing()
        plan.skip_names = skip_tasks(plan.skipped)
        plan.datasets = check.available()
        logger.warning("jaster_missing=skip: leaving out %d dataset(s) whose raw files are not available: %s",
                       len(plan.skipped), ", ".join(i.name for i in plan.skipped))
        if not plan.datasets:
            raise missing_message(check, what)
    return plan
