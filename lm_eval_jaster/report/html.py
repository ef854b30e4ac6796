"""``report.html``: the leaderboard, comparisons, charts, run settings and a sample browser in one offline file.

The page is self-contained: the stylesheet and script (``assets/report.css``, ``assets/report.js``) are inlined, the
charts are drawn as inline SVG by the script, and a Content-Security-Policy allows nothing but those two inline
blocks (by hash), so the page can reach no network. The data travels in two forms:

- ``<script id="jaster-meta" type="application/json">``: runs, groups of comparable runs, scores with intervals,
  comparisons, settings and coverage (small; read at once);
- one ``<script class="jaster-samples" type="application/x-jaster-gzip-base64" data-dataset=NAME>`` per dataset:
  the ``--log_samples`` lines of every run for that dataset, gzip-compressed JSON in base64, decoded only when the
  dataset is opened (the first one at load). Strings are stored once per dataset (a string table shared by the
  runs), and the start of the prompt that all samples of a run share (instruction and few-shot examples) once per
  run.

The script builds every element with ``textContent`` (never ``innerHTML``), so answers holding ``<``, ``&`` or
quotes show as text.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from lm_eval_jaster.registry import CATEGORIES, all_datasets
from lm_eval_jaster.report.charts import radar_axes
from lm_eval_jaster.report.compare import SIGNIFICANCE, Comparison
from lm_eval_jaster.report.examples import badness, first, prompt_of, rankable
from lm_eval_jaster.report.leaderboard import (
    adherence_values,
    columns,
    comparable_groups,
    interval_of,
    lenient_values,
    run_info,
    strict_values,
)
from lm_eval_jaster.report.runs import Run, SampleRecord
from lm_eval_jaster.scores import FILTER, LENIENT_FILTER, rounded

ASSETS = Path(__file__).parent / "assets"
SAMPLES_TYPE = "application/x-jaster-gzip-base64"
LENIENT_METRICS = ("format_adherence", "lenient_recovered", "kanji_left")
SHORT_PAIR_CHARS = 64  # a [pred, gold] pair (pearson/spearman items) is kept when this short


# --- the page data -------------------------------------------------------------------------------------------------

def _number(value: Any) -> float | None:
    """A number as the tables round it (scores.rounded), so that the page shows the digits the Markdown shows."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return rounded(float(value))
    return None


def _intervals(run: Run, names: list[str]) -> dict[str, list[float]]:
    return {name: list(pair) for name in names if (pair := interval_of(run, name)) is not None}


def _coverage(run: Run) -> dict[str, int | None]:
    """Dataset → samples scored (lm-eval's effective count; None when the results file does not say)."""
    found = {}
    for name in run.settings["datasets"]:
        effective = ((run.results.get("n-samples") or {}).get(all_datasets()[name].task_name) or {}).get("effective")
        found[name] = effective if isinstance(effective, int) else None
    return found


def _run_data(run: Run, group: int) -> dict[str, Any]:
    cols = columns([run])
    names = ["AVG", *cols.categories, *cols.datasets]
    scores = run.scores
    return {
        "label": run.label,
        "group": group,
        "date": run.date,
        "info": run_info(run),
        "settings": run.settings,
        "strict": strict_values(run, cols),
        "lenient": lenient_values(run, cols),
        "adherence": adherence_values(run, cols),
        "intervals": _intervals(run, names),
        "interval_source": None if run.intervals is None else run.intervals.source,
        "interval_notes": {} if run.intervals is None else run.intervals.notes,
        "coverage": _coverage(run),
        "samples": [name for name in run.samples],
        "has_samples_files": bool(run.samples_files),
        "notes": list(scores.get("notes") or []),
        "avg_partial": bool(scores.get("avg_partial")),
        "versions": scores.get("versions") or {},
    }


def _comparison_data(comparison: Comparison, index_of: dict[int, int]) -> dict[str, Any]:
    return {
        "baseline": index_of[id(comparison.baseline)],
        "model": index_of[id(comparison.model)],
        "reason": comparison.reason,
        "coverage": comparison.coverage,
        "not_compared": comparison.not_compared,
        "rows": [{"scope": r.scope, "name": r.name, "n": r.n, "delta": _number(r.delta), "ci_low": _number(r.ci_low),
                  "ci_high": _number(r.ci_high), "p_value": _number(r.p_value),
                  "baseline_value": _number(r.baseline_value), "model_value": _number(r.model_value)}
                 for r in comparison.rows],
    }


def page_data(runs: list[Run], found: list[Comparison]) -> dict[str, Any]:
    """Everything the page shows but the samples: runs, groups, columns, scores, intervals, comparisons."""
    cols = columns(runs)
    groups = comparable_groups(runs)
    group_of = {id(run): group.number for group in groups for run in group.runs}
    index_of = {id(run): i for i, run in enumerate(runs)}
    infos = all_datasets()
    sampled = [name for name in infos if any(name in r.samples for r in runs)]
    return {
        "title": "Jaster report: " + ", ".join(r.label for r in runs),
        "reference": sorted({r.scores["reference"] for r in runs}),
        "strict_filter": FILTER,
        "lenient_filter": LENIENT_FILTER,
        "significance": SIGNIFICANCE,
        "lenient": cols.lenient,
        "categories": [{"name": c, "title": CATEGORIES[c].title, "in_avg": CATEGORIES[c].in_avg}
                       for c in cols.categories],
        "datasets": [{"name": d, "task": infos[d].task_name, "category": infos[d].category,
                      "key_metric": infos[d].key_metric} for d in dict.fromkeys([*cols.datasets, *sampled])],
        "radar_axes": radar_axes(runs),
        "groups": [{"number": g.number, "title": g.title, "differences": g.differences,
                    "runs": [index_of[id(r)] for r in g.runs],
                    "categories": (gc := columns(g.runs)).categories, "datasets": gc.datasets, "lenient": gc.lenient}
                   for g in groups],
        "runs": [_run_data(run, group_of[id(run)]) for run in runs],
        "comparisons": [_comparison_data(c, index_of) for c in found],
        "sample_datasets": sampled,
    }


# --- samples of one dataset ----------------------------------------------------------------------------------------

class StringTable:
    """Each distinct string once; records hold indexes."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, text: Any) -> int | None:
        if text is None:
            return None
        if not isinstance(text, str):
            text = json.dumps(text, ensure_ascii=False, default=str)
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.strings)
            self.strings.append(text)
        return index


def shared_prefix(prompts: list[str]) -> str:
    """The start all prompts share (the instruction and few-shot examples), cut after its last blank line (or line
    break) so the sample's own part starts on a line of its own; "" when fewer than two distinct prompts."""
    if len(set(prompts)) < 2:
        return ""
    common = os.path.commonprefix(prompts)
    for mark in ("\n\n", "\n"):
        cut = common.rfind(mark)
        if cut >= 0:
            return common[:cut + len(mark)]
    return ""


def _metric_value(value: Any) -> Any:
    """A number, a short [pred, gold] pair (correlation items), or None (a corpus metric's bulky item)."""
    number = _number(value)
    if number is not None:
        return number
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        pair = [str(v) for v in value]
        return pair if sum(map(len, pair)) <= SHORT_PAIR_CHARS else None
    return None


def _columns(lines: list[dict | None], names: list[str]) -> dict[str, list[Any]]:
    """metric → value per sample, for the metrics with at least one per-sample value."""
    found = {}
    for name in names:
        values = [None if line is None else _metric_value(line.get(name)) for line in lines]
        if any(v is not None for v in values):
            found[name] = values
    return found


def _outcome(strict: dict, key_metric: str) -> int | None:
    """1 right, 0 wrong (the worst-examples rule: strict key metric below 1, or jsts' pred ≠ gold), None unknown."""
    if not rankable(strict.get(key_metric)):
        return None
    return 0 if badness(strict, key_metric)[2] else 1


def _run_samples(records: list[SampleRecord], key_metric: str, table: StringTable,
                 reference_hashes: dict[int, str | None] | None) -> dict[str, Any]:
    prompts = [prompt_of(r.strict) for r in records]
    prefix = shared_prefix(prompts)
    metric_names = list(dict.fromkeys(
        [key_metric, *(m for r in records for m in (r.strict.get("metrics") or []) if isinstance(m, str))]))
    lenient = [r.lenient for r in records]
    has_lenient = any(line is not None for line in lenient)
    differs = []
    if reference_hashes is not None:
        differs = [r.doc_id for r in records
                   if r.doc_hash and reference_hashes.get(r.doc_id) and reference_hashes[r.doc_id] != r.doc_hash]
    data = {
        "prefix": table.add(prefix) if prefix else None,
        "doc_id": [r.doc_id for r in records],
        "prompt": [table.add(p[len(prefix):]) for p in prompts],
        "gold": [table.add(first(r.strict.get("target"))) for r in records],
        "raw": [table.add(first(r.strict.get("resps"))) for r in records],
        "strict": [table.add(first(r.strict.get("filtered_resps"))) for r in records],
        "outcome": [_outcome(r.strict, key_metric) for r in records],
        "metrics": _columns([r.strict for r in records], metric_names),
        "hash_differs": differs,
    }
    if has_lenient:
        data["lenient"] = [None if line is None else table.add(first(line.get("filtered_resps"))) for line in lenient]
        data["lenient_metrics"] = _columns(lenient, [key_metric, *LENIENT_METRICS])
    return data


def dataset_samples(runs: list[Run], name: str) -> dict[str, Any]:
    """The samples of one dataset in every run that logged them: {"strings": [...], "runs": {run index: columns}}.

    Columns (one value per sample, doc id order): ``doc_id``; ``prompt`` (the prompt after the run's shared
    ``prefix``), ``gold``, ``raw`` (the generation), ``strict`` and ``lenient`` (the answers the two filters
    extracted): string indexes; ``outcome`` (1 right, 0 wrong, None unknown); ``metrics`` / ``lenient_metrics``:
    metric → values. ``hash_differs``: doc ids whose document differs from the first run's (lm-eval's doc_hash).
    """
    key_metric = all_datasets()[name].key_metric
    table = StringTable()
    found: dict[str, Any] = {}
    reference_hashes = None
    for i, run in enumerate(runs):
        records = run.samples.get(name)
        if not records:
            continue
        found[str(i)] = _run_samples(records, key_metric, table, reference_hashes)
        if reference_hashes is None:
            reference_hashes = {r.doc_id: r.doc_hash for r in records}
    return {"name": name, "key_metric": key_metric, "strings": table.strings, "runs": found}


# --- the page ------------------------------------------------------------------------------------------------------

def _json_for_script(data: Any) -> str:
    """JSON safe inside a <script> element: no "<" (so no "</script>" or "<!--"), no U+2028/2029 surprises."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def encode_samples(data: Any) -> str:
    """gzip-compressed JSON in base64 (reproducible: no timestamp in the gzip header)."""
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def _asset(name: str, closing: str) -> str:
    text = (ASSETS / name).read_text(encoding="utf-8")
    if re.search(f"</{closing}", text, re.IGNORECASE):
        raise RuntimeError(f"{ASSETS / name} contains </{closing}, which would end its inline element early.")
    return text


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def render_page(runs: list[Run], found: list[Comparison]) -> str:
    """The whole report.html as text."""
    style, script = _asset("report.css", "style"), _asset("report.js", "script")
    meta = page_data(runs, found)
    samples = "\n".join(
        f'<script class="jaster-samples" type="{SAMPLES_TYPE}" data-dataset="{html.escape(name, quote=True)}">'
        f'{encode_samples(dataset_samples(runs, name))}</script>' for name in meta["sample_datasets"])
    csp = (f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; img-src data:; "
           f"base-uri 'none'; form-action 'none'")
    values = {"csp": html.escape(csp, quote=True), "title": html.escape(meta["title"]), "style": style,
              "script": script, "meta": _json_for_script(meta), "samples": samples}
    template = (ASSETS / "page.html").read_text(encoding="utf-8")
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)


def write_html(runs: list[Run], path: Path, found: list[Comparison] | None = None) -> Path:
    """Write report.html for these runs (``found``: their comparisons, :func:`comparisons`, when there are any)."""
    path = Path(path)
    path.write_text(render_page(runs, found or []), encoding="utf-8")
    return path
