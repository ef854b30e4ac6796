"""The settings fingerprint of an lm-eval run on Jaster, and what differs between two runs.

Scores of two runs are comparable only when everything but the model is the same: split, limit, few-shot count,
chat template and format, system instruction, generation arguments, lm-eval and task versions, lm-eval-jaster's
data/prompt/metric versions, and the set of datasets. :func:`run_settings` reads them from an lm-eval results dict
(``results_<date>.json`` of ``lm-eval-jaster`` or of plain ``lm_eval`` with our tasks); :func:`differences` names
what differs, in words.

Per-dataset values (split, chat format, versions, other resolved settings) are stored once when every dataset
shares them, else as ``{dataset: value}``.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from lm_eval_jaster.registry import all_datasets

DEFAULT_SPLIT = "dev"
DEFAULT_CHAT_FORMAT = "single_turn"
# Resolved settings that cannot change a score: where files are, which interpreter or how many GPUs run COMET
# (rounding only), and what to do about missing files (the set of datasets that ran says what happened).
IGNORED_SETTINGS = frozenset({"split", "chat_format", "data_dir", "cache_dir", "comet_python", "comet_batch_size",
                              "comet_gpus", "allow_code_exec", "bert_score", "missing"})
# The package version is recorded for the reader; the data, prompt and metric versions say what matters.
IGNORED_VERSIONS = frozenset({"lm_eval_jaster"})


def _tasks(results: dict) -> dict[str, str]:
    """task → dataset name, for the Jaster tasks that ran (registry order)."""
    ran = set(results.get("results") or {}) | set(results.get("configs") or {})
    return {info.task_name: name for name, info in all_datasets().items() if info.task_name in ran}


def _metadata(results: dict, task: str) -> dict:
    metadata = ((results.get("configs") or {}).get(task) or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _compact(per_dataset: dict[str, Any]) -> Any:
    """The value when every dataset has the same one, else ``{dataset: value}``."""
    values = [json.dumps(v, sort_keys=True, default=str) for v in per_dataset.values()]
    if per_dataset and len(set(values)) == 1:
        return next(iter(per_dataset.values()))
    return dict(per_dataset)


def _per_dataset(value: Any, datasets: Iterable[str]) -> dict[str, Any]:
    """Inverse of :func:`_compact` (a dict keyed by dataset names stays as it is)."""
    datasets = list(datasets)
    if isinstance(value, dict) and value and set(value) <= set(all_datasets()):
        return {d: value.get(d) for d in datasets}
    return {d: value for d in datasets}


def _limit(value: Any) -> int | float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def run_settings(results: dict) -> dict[str, Any]:
    """The settings fingerprint of an lm-eval results dict (everything but the model that can move a score).

    Keys: ``datasets`` (Jaster datasets that ran, registry order), ``split``, ``limit`` (int, fraction or None for
    all), ``n_shot`` ({dataset: n}), ``chat_template`` (applied or not), ``chat_template_sha``, ``chat_format``,
    ``system_instruction_sha``, ``fewshot_as_multiturn``, ``gen_kwargs``, ``lm_eval_version``, ``task_versions``
    ({dataset: version}), ``jaster_versions`` and ``jaster_settings`` (lm-eval-jaster's versions and its other
    resolved settings, from the tasks' metadata; empty for runs that predate them). Older files without
    ``jaster_settings`` read as split "dev" (or their ``jaster_split``) and chat format "single_turn".
    """
    tasks = _tasks(results)
    config = results.get("config") or {}
    splits, formats, versions, others = {}, {}, {}, {}
    for task, name in tasks.items():
        metadata = _metadata(results, task)
        settings = metadata.get("jaster_settings") if isinstance(metadata.get("jaster_settings"), dict) else {}
        splits[name] = settings.get("split") or metadata.get("jaster_split") or DEFAULT_SPLIT
        formats[name] = settings.get("chat_format") or DEFAULT_CHAT_FORMAT
        task_versions = metadata.get("jaster_versions") if isinstance(metadata.get("jaster_versions"), dict) else {}
        for key, value in task_versions.items():
            versions.setdefault(key, {})[name] = value
        for key, value in settings.items():
            if key not in ("split", "chat_format"):
                others.setdefault(key, {})[name] = value
    n_shot = results.get("n-shot") or {}
    task_versions = results.get("versions") or {}
    gen_kwargs = config.get("gen_kwargs")
    return {
        "datasets": list(tasks.values()),
        "split": _compact(splits) if splits else DEFAULT_SPLIT,
        "limit": _limit(config.get("limit")),
        "n_shot": {name: n_shot.get(task) for task, name in tasks.items()},
        "chat_template": results.get("chat_template") is not None,  # "" for API chat models, None when not applied
        "chat_template_sha": results.get("chat_template_sha"),
        "chat_format": _compact(formats) if formats else DEFAULT_CHAT_FORMAT,
        "system_instruction_sha": results.get("system_instruction_sha"),
        "fewshot_as_multiturn": bool(results.get("fewshot_as_multiturn")),
        "gen_kwargs": gen_kwargs or None,
        "lm_eval_version": results.get("lm_eval_version"),
        "task_versions": {name: task_versions.get(task) for task, name in tasks.items()},
        "jaster_versions": {key: _compact(by_dataset) for key, by_dataset in sorted(versions.items())},
        "jaster_settings": {key: _compact(by_dataset) for key, by_dataset in sorted(others.items())},
    }


# --- differences -------------------------------------------------------------------------------------------------

def _show(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _names(names: list[str], of: list[str]) -> str:
    if len(names) == len(of) and len(of) > 1:
        return "all datasets"
    if len(names) <= 4:
        return ", ".join(names)
    return f"{', '.join(names[:3])}, … ({len(names)} datasets)"


def _per_dataset_differences(label: str, a: Any, b: Any, common: list[str], show=_show) -> list[str]:
    """"label x vs y (datasets)" for each distinct pair of values on the common datasets."""
    by_a, by_b = _per_dataset(a, common), _per_dataset(b, common)
    groups: dict[tuple[str, str], list[str]] = {}
    for name in common:
        if _show(by_a[name]) != _show(by_b[name]):
            groups.setdefault((show(by_a[name]), show(by_b[name])), []).append(name)
    if len(groups) == 1 and len(next(iter(groups.values()))) == len(common):  # every dataset, one way
        (x, y), _ = next(iter(groups.items()))
        return [f"{label} {x} vs {y}"]
    return [f"{label} {x} vs {y} ({_names(names, common)})" for (x, y), names in groups.items()]


def differences(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str] = ("A", "B"),
                coverage: bool = True) -> list[str]:
    """What differs between two fingerprints of :func:`run_settings`, in words (empty: comparable).

    Per-dataset settings are compared on the datasets both ran. ``coverage=False`` leaves out the differences a
    paired comparison copes with (the set of datasets and the limit: it uses the samples both runs scored).
    """
    found: list[str] = []
    datasets_a, datasets_b = list(a.get("datasets") or []), list(b.get("datasets") or [])
    common = [d for d in datasets_a if d in datasets_b]
    if coverage:
        only_a = [d for d in datasets_a if d not in datasets_b]
        only_b = [d for d in datasets_b if d not in datasets_a]
        parts = [f"{', '.join(only)} only in {name}" for only, name in ((only_a, names[0]), (only_b, names[1])) if only]
        if parts:
            found.append("datasets: " + "; ".join(parts))
        if a.get("limit") != b.get("limit"):
            found.append(f"limit {_limit_text(a.get('limit'))} vs {_limit_text(b.get('limit'))}")
    found += _per_dataset_differences("split", a.get("split", DEFAULT_SPLIT), b.get("split", DEFAULT_SPLIT), common)
    found += _per_dataset_differences("n-shot", a.get("n_shot") or {}, b.get("n_shot") or {}, common)
    if a.get("chat_template") != b.get("chat_template"):
        found.append("chat template " + " vs ".join("applied" if s.get("chat_template") else "not applied"
                                                   for s in (a, b)))
    elif a.get("chat_template") and a.get("chat_template_sha") != b.get("chat_template_sha"):
        found.append(f"chat template differs (sha {_short(a.get('chat_template_sha'))} vs "
                     f"{_short(b.get('chat_template_sha'))})")
    if a.get("chat_template") or b.get("chat_template"):  # the layout only matters with a chat template
        found += _per_dataset_differences("chat format", a.get("chat_format", DEFAULT_CHAT_FORMAT),
                                          b.get("chat_format", DEFAULT_CHAT_FORMAT), common)
    sys_a, sys_b = a.get("system_instruction_sha"), b.get("system_instruction_sha")
    if sys_a != sys_b:
        found.append("system instruction " + ("differs" if sys_a and sys_b else
                                              f"{'set' if sys_a else 'none'} vs {'set' if sys_b else 'none'}"))
    if bool(a.get("fewshot_as_multiturn")) != bool(b.get("fewshot_as_multiturn")):
        found.append(f"fewshot_as_multiturn {_show(bool(a.get('fewshot_as_multiturn')))} vs "
                     f"{_show(bool(b.get('fewshot_as_multiturn')))}")
    if (a.get("gen_kwargs") or None) != (b.get("gen_kwargs") or None):
        found.append(f"gen_kwargs {_show(a.get('gen_kwargs') or {})} vs {_show(b.get('gen_kwargs') or {})}")
    if a.get("lm_eval_version") != b.get("lm_eval_version"):
        found.append(f"lm-eval {_show(a.get('lm_eval_version'))} vs {_show(b.get('lm_eval_version'))}")
    found += _per_dataset_differences("task version", a.get("task_versions") or {}, b.get("task_versions") or {},
                                      common)
    for group, ignored in (("jaster_versions", IGNORED_VERSIONS), ("jaster_settings", IGNORED_SETTINGS)):
        values_a, values_b = a.get(group) or {}, b.get(group) or {}
        for key in sorted((set(values_a) | set(values_b)) - ignored):
            label = f"{key} version" if group == "jaster_versions" else key
            found += _per_dataset_differences(label, values_a.get(key), values_b.get(key), common)
    return found


def _limit_text(limit: Any) -> str:
    return "all" if limit is None else str(limit)


def _short(sha: Any) -> str:
    return str(sha)[:8] if sha else "unknown"


def comparable(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same settings except the model (no :func:`differences` at all)."""
    return not differences(a, b)


def describe(settings: dict[str, Any]) -> str:
    """One line for a heading: "split dev, limit 10, 4-shot, no chat template, 6 datasets"."""
    shots = set(_show(v) for v in (settings.get("n_shot") or {}).values())
    shot_text = f"{shots.pop()}-shot" if len(shots) == 1 else "n-shot per dataset"
    split = settings.get("split", DEFAULT_SPLIT)
    parts = [f"split {split if isinstance(split, str) else 'per dataset'}",
             f"limit {_limit_text(settings.get('limit'))}", shot_text]
    if settings.get("chat_template"):
        chat_format = settings.get("chat_format", DEFAULT_CHAT_FORMAT)
        parts.append(f"chat template ({chat_format if isinstance(chat_format, str) else 'format per dataset'})")
    else:
        parts.append("no chat template")
    if settings.get("system_instruction_sha"):
        parts.append("system instruction")
    if settings.get("fewshot_as_multiturn"):
        parts.append("fewshot_as_multiturn")
    if settings.get("gen_kwargs"):
        parts.append(f"gen_kwargs {_show(settings['gen_kwargs'])}")
    n = len(settings.get("datasets") or [])
    parts.append(f"{n} dataset{'s' if n != 1 else ''}")
    return ", ".join(parts)
