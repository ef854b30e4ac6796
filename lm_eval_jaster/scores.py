"""llm-jp-eval's score table from lm-eval results: per-dataset metrics, category means, AVG, with 95 % intervals.

llm-jp-eval (v1.3.0 ``post_process_score_results``): a category is the unweighted mean of its datasets' key
metric; AVG is the unweighted mean of the categories; JSTS (STS) is shown but not averaged. Only the
"llm-jp-eval" filter pipeline is scored: it is the faithful one. Intervals: :mod:`lm_eval_jaster.stats`.
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Mapping

from lm_eval_jaster import __version__
from lm_eval_jaster.errors import JasterError
from lm_eval_jaster.registry import CATEGORIES, all_datasets

FILTER = "llm-jp-eval"
LENIENT_FILTER = "lenient"
REFERENCE = "llm-jp-eval v1.4.1 data, v1.3.0 prompt and metrics"
SIGNIFICANT_DIGITS = 12  # numbers in jaster_scores_*.json: no float noise (0.01604, not 0.016040000000000002)


class ResultsError(JasterError):
    """An lm-eval results file that cannot be scored."""


def _value(task_results: dict, metric: str, filter_name: str = FILTER, where: str = "") -> float | None:
    value = task_results.get(f"{metric},{filter_name}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isnan(value):
            return 0.0  # llm-jp-eval maps NaN to 0
        if math.isinf(value):
            raise ResultsError(f"{where}: {metric} ({filter_name}) is {value}, not a score.",
                               "A non-finite metric would make AVG infinite; re-run the task.")
        return float(value)
    return None


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def counted_in_avg(info) -> bool:
    """Whether a dataset's score counts in llm-jp-eval's AVG (JSTS, JCoLA and datasets v1.4.1 did not run: no)."""
    return info.in_avg and CATEGORIES[info.category].in_avg


def _check_shape(results: Any) -> dict:
    if not isinstance(results, dict):
        raise ResultsError(f"not an lm-eval results file: the top level is a {type(results).__name__}, "
                           f"not an object.", "Pass the results_<date>.json that lm-eval wrote.")
    rows = results.get("results")
    if not isinstance(rows, dict):
        raise ResultsError("not an lm-eval results file: \"results\" is missing or not an object.",
                           "Pass the results_<date>.json that lm-eval wrote.")
    for task, row in rows.items():
        if not isinstance(row, dict):
            raise ResultsError(f"not an lm-eval results file: results[{task!r}] is a {type(row).__name__}, "
                               f"not an object.", "Pass the results_<date>.json that lm-eval wrote.")
    return rows


def _task_metadata(results: dict, task: str) -> dict:
    config = (results.get("configs") or {}).get(task)
    metadata = config.get("metadata") if isinstance(config, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def rounded(value: Any) -> Any:
    """Floats (also inside dicts and lists) to SIGNIFICANT_DIGITS: no float noise, order kept (low ≤ score ≤ high)."""
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def compute_scores(results: dict[str, Any], samples: Mapping[str, Any] | None = None,
                   skipped: list[str] | None = None) -> dict[str, Any] | None:
    """The llm-jp-eval table for the Jaster tasks in an lm-eval results dict; None if none ran.

    ``samples``: dataset → its strict key-metric values (:class:`lm_eval_jaster.stats.DatasetSamples`), for the
    intervals; ``skipped``: datasets left out for lack of data (``jaster_missing: skip``).
    """
    from lm_eval_jaster.fingerprint import run_settings

    task_results = _check_shape(results)
    datasets, per_category, per_category_lenient, notes = {}, {}, {}, []
    for info in all_datasets().values():
        if info.task_name not in task_results:
            continue
        row = task_results[info.task_name]
        metrics = {m: _value(row, m, where=info.task_name) for m in info.metrics}
        if all(v is None for v in metrics.values()):  # e.g. --predict_only
            continue
        metrics = {m: v for m, v in metrics.items() if v is not None or m == info.key_metric}
        lenient = _value(row, info.key_metric, LENIENT_FILTER, info.task_name)
        task_notes = [str(n) for n in _task_metadata(results, info.task_name).get("jaster_notes") or []]
        notes += [f"{info.name}: {n}" for n in task_notes]
        datasets[info.name] = {
            "task": info.task_name, "category": info.category, "key_metric": info.key_metric,
            "score": metrics[info.key_metric], "metrics": metrics, "lenient_score": lenient,
            "format_adherence": _value(row, "format_adherence", LENIENT_FILTER, info.task_name),
            "lenient_recovered": _value(row, "lenient_recovered", LENIENT_FILTER, info.task_name),
            "in_avg": counted_in_avg(info),
        }
        if info.answer_format == "reading":
            datasets[info.name]["kanji_left"] = _value(row, "kanji_left", LENIENT_FILTER, info.task_name)
        if metrics[info.key_metric] is None:  # e.g. COMET not available: shown, not averaged
            datasets[info.name]["in_avg"] = False
            if not task_notes:
                notes.append(f"{info.name}: {info.key_metric} was not computed, so {info.category} is left out "
                             f"of AVG.")
            continue
        if info.in_avg or not CATEGORIES[info.category].in_avg:  # datasets v1.4.1 did not run stay out of AVG
            per_category.setdefault(info.category, []).append(info.name)
            per_category_lenient.setdefault(info.category, []).append(lenient)
    if not datasets:
        return None
    categories = {name: _mean([datasets[d]["score"] for d in per_category[name]])
                  for name in CATEGORIES if name in per_category}
    lenient_categories = {name: _mean(values) for name, values in per_category_lenient.items() if None not in values}
    averaged = [name for name in categories if CATEGORIES[name].in_avg]
    lenient_avg = (_mean([lenient_categories[c] for c in averaged])
                   if averaged and all(c in lenient_categories for c in averaged) else None)
    expected = [name for name, c in CATEGORIES.items() if c.in_avg and any(
        i.category == name and i.in_avg for i in all_datasets().values())]
    missing = [c for c in expected if c not in categories]
    run = run_settings(results)
    config = results.get("config") or {}
    scores = {
        "reference": REFERENCE,
        "filter": FILTER,
        "split": run["split"],
        "limit": run["limit"],
        "num_fewshot": {d["task"]: (results.get("n-shot") or {}).get(d["task"]) for d in datasets.values()},
        "chat_template": run["chat_template"],
        "chat_format": run["chat_format"] if run["chat_template"] else None,
        "system_instruction": results.get("system_instruction"),
        "model": config.get("model"),
        "model_args": config.get("model_args"),
        "versions": {"lm_eval": results.get("lm_eval_version") or _lm_eval_version(),
                     "lm_eval_jaster": _jaster_version(run)},
        "datasets": datasets,
        "categories": categories,
        "AVG": _mean([categories[c] for c in averaged]) if averaged else None,
        "avg_categories": averaged,
        "category_datasets": {c: per_category[c] for c in categories},
        "avg_partial": bool(missing or skipped),
        "lenient_categories": lenient_categories,
        "lenient_AVG": lenient_avg,
        "missing_categories": missing,
        "skipped": list(skipped or []),
        "notes": notes,
        "settings": run,
    }
    if samples:
        _add_intervals(scores, samples, {c: per_category[c] for c in categories})
    return rounded(scores)


def _lm_eval_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("lm_eval")
    except Exception:
        return None


def _jaster_version(run: dict) -> Any:
    return (run.get("jaster_versions") or {}).get("lm_eval_jaster") or __version__


def samples_from_raw_metrics(raw: Mapping[str, Mapping[tuple[str, str], list]]) -> dict[str, Any]:
    """Dataset → its strict key-metric values (stats.DatasetSamples) from lm-eval's per-sample values of a run
    (task → (metric, filter) → values); COMET's items become their segment scores (the mean is COMET's score)."""
    from lm_eval_jaster import stats
    from lm_eval_jaster.metrics import neural

    found = {}
    for name, info in all_datasets().items():
        items = (raw.get(info.task_name) or {}).get((info.key_metric, FILTER))
        if not items:
            continue
        if info.key_metric == "comet_wmt22":
            segments = neural.cached_segment_scores(items)
            samples = stats.DatasetSamples(segments) if segments is not None else None
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            samples = stats.DatasetSamples([float(v) for v in items])
        else:
            statistic = stats.statistic_for(info.key_metric)
            samples = stats.DatasetSamples(items, statistic=statistic) if statistic is not None else None
        if samples is not None:
            found[name] = samples
    return found


def samples_from_files(results_file: Path) -> dict[str, Any]:
    """Dataset → its strict key-metric values from the ``--log_samples`` files beside a results file (none for
    corpus metrics whose items carry no score, such as COMET's)."""
    from lm_eval_jaster import stats
    from lm_eval_jaster.run_files import read_samples, samples_files

    files = samples_files(results_file)
    found = {}
    for name, info in all_datasets().items():
        if info.task_name in files:
            samples = stats.samples_from_lines(read_samples(files[info.task_name]), info.key_metric, FILTER)
            if samples is not None:
                found[name] = samples
    return found


def _add_intervals(scores: dict, samples: Mapping[str, Any], categories: dict[str, list[str]]) -> None:
    """95 % bootstrap intervals of every dataset score, category mean and AVG (stats.run_intervals)."""
    from lm_eval_jaster import stats

    intervals = stats.run_intervals({n: s for n, s in samples.items() if n in scores["datasets"]}, categories,
                                    scores["avg_categories"])
    for name, estimate in intervals.datasets.items():
        scores["datasets"][name]["ci"] = estimate.interval
    scores["categories_ci"] = {c: e.interval for c, e in intervals.categories.items()}
    scores["AVG_ci"] = intervals.avg.interval if intervals.avg is not None else None
    scores["interval_method"] = (f"percentile bootstrap over samples, "
                                 f"{intervals.resamples} resamples, within each dataset for categories and AVG")


def fixed(value: float, digits: int = 4, sign: bool = False) -> str:
    """``value`` with ``digits`` decimals, as every table, CSV-derived text and report.html shows it: the rounded
    number (:func:`rounded`), ties away from zero on its exact value (JavaScript's ``toFixed``), so that one number
    never reads differently in two outputs."""
    text = str(Decimal(rounded(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    if text.startswith("-") and not text.strip("-0."):
        text = text[1:]  # no "-0.0000"
    return ("+" if sign and not text.startswith("-") else "") + text


def _fmt(value: float | None, bold: bool = False) -> str:
    if value is None:
        return "–"
    return f"**{fixed(value)}**" if bold else fixed(value)


def _fmt_ci(interval: list[float] | None) -> str:
    return "–" if not interval else f"{fixed(interval[0])}–{fixed(interval[1])}"


def settings_line(scores: dict[str, Any]) -> str:
    shots = sorted({n for n in scores["num_fewshot"].values() if n is not None})
    shot_text = ("/".join(map(str, shots)) if shots else "?") + "-shot"
    limit = scores["limit"]
    chat = (f"chat template ({scores['chat_format']})" if scores.get("chat_template") else "no chat template")
    system = "system instruction" if scores.get("system_instruction") else "no system instruction"
    versions = scores.get("versions") or {}
    return (f"split {scores['split']}, limit {'none (all samples)' if limit is None else limit}, {shot_text}, {chat}, {system}; "
            f"lm-eval {versions.get('lm_eval')}, lm-eval-jaster {versions.get('lm_eval_jaster')}")


def format_table(scores: dict[str, Any]) -> str:
    """Markdown table in llm-jp-eval's layout (values with four decimals, as llm-jp-eval prints them).

    "Score" is llm-jp-eval's (strict) score, with its 95 % interval when the run's samples were at hand. With the
    lenient pipeline, "Lenient" is the same metric on leniently extracted answers and "Format" the share of strict
    answers that are well-formed for the dataset.
    """
    lenient = any(row.get("lenient_score") is not None for row in scores["datasets"].values())
    intervals = "categories_ci" in scores
    head = "| Category | Dataset | Metric | Score |" + (" 95% CI |" if intervals else "") + \
        (" Lenient | Format |" if lenient else "")
    rule = "|---|---|---|---:|" + ("---:|" if intervals else "") + ("---:|---:|" if lenient else "")
    lines = [f"llm-jp-eval scores ({scores['reference']}; filter \"{scores['filter']}\")",
             f"Settings: {settings_line(scores)}", "", head, rule]
    for category in CATEGORIES:
        rows = {name: row for name, row in scores["datasets"].items() if row["category"] == category}
        if not rows:
            continue
        for name, row in rows.items():
            label = name if row.get("in_avg", True) else f"{name} (not in AVG)"
            for metric, value in row["metrics"].items():
                key = metric == row["key_metric"]
                extra = f" {_fmt_ci(row.get('ci') if key else None)} |" if intervals else ""
                if lenient:
                    extra += (f" {_fmt(row.get('lenient_score') if key else None)} |"
                              f" {_fmt(row.get('format_adherence') if key else None)} |")
                shown = _fmt(value) if value is not None else "missing"
                lines.append(f"| {category} | {label} | {metric} | {shown} |{extra}")
        if category not in scores["categories"]:
            continue
        mean = scores["categories"][category]
        note = "" if CATEGORIES[category].in_avg else " (not in AVG)"
        extra = f" {_fmt_ci(scores['categories_ci'].get(category))} |" if intervals else ""
        extra += f" {_fmt(scores.get('lenient_categories', {}).get(category), True)} | |" if lenient else ""
        lines.append(f"| **{category}**{note} | | mean | **{fixed(mean)}** |{extra}")
    if scores["AVG"] is not None:
        extra = f" {_fmt_ci(scores.get('AVG_ci'))} |" if intervals else ""
        extra += f" {_fmt(scores.get('lenient_AVG'), True)} | |" if lenient else ""
        partial = " (partial)" if scores.get("avg_partial") else ""
        lines.append(f"| **AVG**{partial} | {', '.join(scores['avg_categories'])} | mean of categories | "
                     f"**{fixed(scores['AVG'])}** |{extra}")
    footer = []
    if scores.get("skipped"):
        footer.append(f"Skipped for lack of data (jaster_missing: skip): {', '.join(scores['skipped'])}.")
    if scores["missing_categories"]:
        footer.append(f"AVG is partial: it covers only the categories that ran; missing: "
                      f"{', '.join(scores['missing_categories'])} (llm-jp-eval itself would count a missing category "
                      f"as 0).")
    footer += scores.get("notes") or []
    if intervals:
        footer.append(f"95% CI: {scores.get('interval_method')}.")
    if footer:
        lines += ["", *footer]
    return "\n".join(lines)


def scores_path_for(results_file: Path) -> Path:
    """``results_<date>.json`` → ``jaster_scores_<date>.json`` in the same folder."""
    stem = results_file.stem
    suffix = stem[len("results"):] if stem.startswith("results") else f"_{stem}"
    return results_file.with_name(f"jaster_scores{suffix}.json")


def write_scores(scores: dict[str, Any], path: Path) -> None:
    from lm_eval_jaster.files import atomic_write_text

    atomic_write_text(Path(path), json.dumps(scores, ensure_ascii=False, indent=2) + "\n")


def scores_from_file(results_file: Path) -> dict[str, Any]:
    """The table of an lm-eval results file (intervals when its samples files are beside it)."""
    results_file = Path(results_file)
    try:
        results = json.loads(results_file.read_text(encoding="utf-8"))
    except OSError as e:
        raise ResultsError(f"cannot read {results_file}: {e.strerror or e}.", "Check the path.") from e
    except ValueError as e:
        raise ResultsError(f"{results_file} is not JSON ({e}).", "Pass the results_<date>.json that lm-eval "
                           "wrote.") from e
    try:
        scores = compute_scores(results, samples_from_files(results_file))
    except ResultsError as e:
        raise ResultsError(f"{results_file}: {e.message}", e.hint) from e
    if scores is None:
        raise ResultsError(f"{results_file} holds no Jaster task results scored with the \"{FILTER}\" filter.",
                           "Was it a --predict_only run, or one without jaster_* tasks?")
    return scores
