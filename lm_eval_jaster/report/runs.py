"""Collecting runs: lm-eval results files, their ``--log_samples`` files, labels, settings and intervals.

A :class:`Run` is one lm-eval run of one model. Its scores are recomputed from the results file with
:func:`lm_eval_jaster.scores.compute_scores`; its settings fingerprint is
:func:`lm_eval_jaster.fingerprint.run_settings`; its samples (``samples_<task>_<date>.jsonl`` next to the results
file) are read once, on first use, as :class:`SampleRecord` per dataset and doc; its intervals come from those samples
(:mod:`lm_eval_jaster.stats`), or from ``jaster_scores_<date>.json`` when it carries them and there are no samples.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from lm_eval_jaster import stats
from lm_eval_jaster.errors import JasterError
from lm_eval_jaster.fingerprint import run_settings
from lm_eval_jaster.registry import all_datasets
from lm_eval_jaster.run_files import read_samples, run_date, samples_files, warn
from lm_eval_jaster.scores import FILTER, LENIENT_FILTER, compute_scores, rounded, scores_path_for

LOG_SAMPLES_HINT = "Rerun it with --log_samples to get per-sample results."


class ReportError(JasterError):
    """A report that cannot be made as asked (no runs, bad paths, bad --label, no matplotlib)."""


@dataclass(frozen=True)
class SampleRecord:
    """One doc of one dataset in a run: its strict ("llm-jp-eval") samples line and its lenient one (if logged;
    without the "doc" and "arguments" it shares with the strict line)."""

    doc_id: int
    strict: dict[str, Any]
    lenient: dict[str, Any] | None = None

    @property
    def doc_hash(self) -> str | None:
        return self.strict.get("doc_hash")


@dataclass(frozen=True)
class ScoreIntervals:
    """95 % intervals of a run's strict scores: (low, high) per dataset and category, and for AVG.

    ``source``: "samples" (computed here from the samples files) or the scores file they were read from.
    ``notes``: datasets without an interval and why.
    """

    datasets: dict[str, tuple[float, float]]
    categories: dict[str, tuple[float, float]]
    avg: tuple[float, float] | None
    source: str
    notes: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> tuple[float, float] | None:
        """The interval of "AVG", a category or a dataset."""
        if name == "AVG":
            return self.avg
        return self.categories.get(name) or self.datasets.get(name)


@dataclass(frozen=True)
class Run:
    """One lm-eval run (one model): its results, llm-jp-eval scores and ``--log_samples`` files (task → path)."""

    label: str
    results_file: Path
    results: dict[str, Any]
    scores: dict[str, Any]
    samples_files: dict[str, Path] = field(default_factory=dict)

    @property
    def date(self) -> str:
        return run_date(self.results_file)

    @functools.cached_property
    def settings(self) -> dict[str, Any]:
        """The settings fingerprint (:func:`lm_eval_jaster.fingerprint.run_settings`)."""
        return run_settings(self.results)

    @functools.cached_property
    def samples(self) -> dict[str, list[SampleRecord]]:
        """Dataset name → its samples by doc id (read from the samples files on first use)."""
        by_task = {info.task_name: name for name, info in all_datasets().items()}
        found = {}
        for task, path in self.samples_files.items():
            if task in by_task:
                found[by_task[task]] = sample_records(read_samples(path), path)
        return {name: found[name] for name in all_datasets() if name in found}

    @functools.cached_property
    def intervals(self) -> ScoreIntervals | None:
        return _intervals(self)

    def dataset_samples(self, complete: bool = True) -> tuple[dict[str, stats.DatasetSamples], dict[str, str]]:
        """The strict key-metric values per dataset for :mod:`lm_eval_jaster.stats`, and why other datasets have none.

        ``complete``: only datasets whose samples file holds every scored sample (what an interval of the score
        needs); False also keeps partial files (a paired comparison uses what both runs hold)."""
        return _dataset_samples(self, complete)


# --- collecting runs ---------------------------------------------------------------------------------------------

class _NotJaster(Exception):
    """A results file that cannot be used; the message says why."""


def collect_runs(paths: Iterable[Path], labels: list[str] | None = None) -> list[Run]:
    """Runs from results files or folders (searched recursively), in the order given; ReportError naming a path that
    holds none. ``labels``: one name per run, in order (default: the model's last path component)."""
    runs: dict[Path, Run] = {}
    for path in map(Path, paths):
        loaded, skipped = [], []
        for results_file in _results_files(path):
            try:
                loaded.append(_load_run(results_file))
            except _NotJaster as e:
                skipped.append(str(e))
        if not loaded:
            raise ReportError(f"{path}: no lm-eval results with Jaster tasks ({'; '.join(skipped)}).",
                              "Give results_<date>.json files of runs with jaster_* tasks, or folders holding them.")
        for reason in skipped:
            warn(f"skipped {reason}")
        for run in loaded:
            runs.setdefault(run.results_file.resolve(), run)
    found = list(runs.values())
    if labels:
        return _named(found, labels)
    return _unique_labels(found)


def _named(runs: list[Run], labels: list[str]) -> list[Run]:
    if len(labels) != len(runs):
        listing = "; ".join(f"{i}: {r.results_file}" for i, r in enumerate(runs, 1))
        raise ReportError(f"{len(labels)} --label given for {len(runs)} runs ({listing}).",
                          "Give --label once per run, in this order, or leave it out.")
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ReportError(f"--label {repeated[0]!r} is given more than once.", "Give every run its own name.")
    return [replace(run, label=label) for run, label in zip(runs, labels)]


def _results_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ReportError(f"{path}: no such file or folder.", "Give lm-eval results files or folders holding them.")
    found = sorted(path.rglob("results_*.json"))
    if not found:
        raise ReportError(f"{path}: no lm-eval results file (results_*.json) in this folder or below.",
                          "Point at the --output_path of an lm-eval run.")
    return found


def _load_run(results_file: Path) -> Run:
    try:
        results = json.loads(results_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise _NotJaster(f"{results_file}: not readable as JSON ({e})") from None
    if not isinstance(results, dict) or not isinstance(results.get("results"), dict):
        raise _NotJaster(f"{results_file}: not an lm-eval results file (no \"results\")")
    scores = compute_scores(results)
    if scores is None:
        raise _NotJaster(f"{results_file}: no Jaster task scored with the \"{FILTER}\" filter")
    return Run(model_label(results, results_file), results_file, results, scores, samples_files(results_file))


def _model_args(model_args: Any) -> dict[str, Any]:
    if isinstance(model_args, dict):
        return model_args
    if isinstance(model_args, str):  # "pretrained=x,dtype=float32"
        return dict(part.split("=", 1) for part in model_args.split(",") if "=" in part)
    return {}


def model_label(results: dict, results_file: Path) -> str:
    """The model's last path component: ``pretrained=/x/y/gemma-3-270m`` → ``gemma-3-270m``, ``org/m`` → ``m``."""
    name = str(_model_args(results.get("config", {}).get("model_args")).get("pretrained") or results.get("model_name")
               or "")
    last = re.split(r"[/\\]", name.rstrip("/\\"))[-1]
    return last or results_file.parent.name


def _unique_labels(runs: list[Run]) -> list[Run]:
    """Append the date to labels that several runs share (and a counter if the date does not separate them)."""
    def counts(labels: list[str]) -> dict[str, int]:
        return {label: labels.count(label) for label in labels}

    first = counts([r.label for r in runs])
    runs = [replace(r, label=f"{r.label} @ {r.date}") if first[r.label] > 1 else r for r in runs]
    second, seen = counts([r.label for r in runs]), {}
    unique = []
    for run in runs:
        seen[run.label] = seen.get(run.label, 0) + 1
        unique.append(replace(run, label=f"{run.label} #{seen[run.label]}") if second[run.label] > 1 else run)
    return unique


# --- samples -----------------------------------------------------------------------------------------------------

def sample_records(lines: list[dict], path: Path | str = "") -> list[SampleRecord]:
    """The strict line of each doc with its lenient line, by doc id (lines of other filters are ignored)."""
    strict: dict[int, dict] = {}
    lenient: dict[int, dict] = {}
    for line in lines:
        tables = {FILTER: strict, LENIENT_FILTER: lenient}
        table = tables.get(line.get("filter", FILTER))
        if table is None:
            continue
        if line["doc_id"] in table:
            warn(f"{path}: doc_id {line['doc_id']} appears twice for filter {line.get('filter', FILTER)!r}; "
                 f"the first line is used")
            continue
        if table is lenient:  # the doc and prompt are the strict line's: not held twice
            line = {k: v for k, v in line.items() if k not in ("doc", "arguments")}
        table[line["doc_id"]] = line
    return [SampleRecord(doc_id, strict[doc_id], lenient.get(doc_id)) for doc_id in sorted(strict)]


def _effective(run: Run, task: str) -> int | None:
    count = ((run.results.get("n-samples") or {}).get(task) or {}).get("effective")
    return count if isinstance(count, int) else None


def _dataset_samples(run: Run, complete: bool) -> tuple[dict[str, stats.DatasetSamples], dict[str, str]]:
    found, notes = {}, {}
    for name in run.scores["datasets"]:
        info = all_datasets()[name]
        records = run.samples.get(name)
        if records is None:
            notes[name] = f"no samples file ({LOG_SAMPLES_HINT})"
            continue
        expected = _effective(run, info.task_name)
        if complete and expected is not None and len(records) != expected:
            notes[name] = f"the samples file holds {len(records)} of the {expected} scored samples"
            continue
        samples = stats.samples_from_lines([r.strict for r in records], info.key_metric, FILTER)
        if samples is None:
            notes[name] = f"{info.key_metric} has no per-sample value in the samples file (a corpus-level metric)"
        else:
            found[name] = samples
    return found, notes


def _pair(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(stats.is_finite(v) for v in value):
        return float(value[0]), float(value[1])
    return None


def _intervals(run: Run) -> ScoreIntervals | None:
    """The intervals ``jaster_scores_<date>.json`` records (lm-eval-jaster computes them during the run, COMET's
    included), else intervals computed from the samples files with the same function."""
    saved = _saved_intervals(scores_path_for(run.results_file))
    if saved is not None or not run.samples_files:
        return saved
    samples, notes = run.dataset_samples()
    if not samples:
        return None
    computed = stats.run_intervals(samples, stats.category_members(run.scores), run.scores["avg_categories"])

    def bounds(estimate: stats.Estimate) -> tuple[float, float]:  # rounded as the score table is
        return rounded(estimate.low), rounded(estimate.high)

    return ScoreIntervals({n: bounds(e) for n, e in computed.datasets.items()},
                          {n: bounds(e) for n, e in computed.categories.items()},
                          None if computed.avg is None else bounds(computed.avg), "samples", notes)


def _saved_intervals(scores_file: Path) -> ScoreIntervals | None:
    try:
        saved = json.loads(scores_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict):
        return None
    datasets = {name: pair for name, row in (saved.get("datasets") or {}).items()
                if isinstance(row, dict) and (pair := _pair(row.get("ci"))) is not None}
    categories = {name: pair for name, value in (saved.get("categories_ci") or {}).items()
                  if (pair := _pair(value)) is not None}
    avg = _pair(saved.get("AVG_ci"))
    if not (datasets or categories or avg):
        return None
    return ScoreIntervals(datasets, categories, avg, str(scores_file))
