"""Compare lm-eval runs on Jaster: a leaderboard (Markdown + CSV), radar charts and each model's worst examples.

    lm-eval-jaster report RESULTS... [--output-dir DIR] [--worst N]

RESULTS are lm-eval ``results_<date>.json`` files, or folders searched recursively for them (``lm-eval-jaster`` and
plain ``lm_eval`` runs alike). Every score is recomputed from the results file with
:func:`lm_eval_jaster.scores.compute_scores`; ``jaster_scores_<date>.json`` is not read. Written to DIR:

``leaderboard.md``
    A strict table (filter "llm-jp-eval": llm-jp-eval's own scores) with one row per model: split, limit, n-shot,
    missing categories, AVG, each category mean, each dataset's key metric. When a run has the "lenient" pipeline,
    a lenient table with the same columns and a format-adherence table (per dataset) follow. Last, a table of the
    runs (results file, model_args, chat template).

``leaderboard.csv``
    One row per model, paired columns (values at full precision, empty when not available)::

        model, split, limit, n_shot, missing_categories, chat_template, model_args, results_file,
        AVG, <category>..., <dataset>...                  strict; a dataset column is its key metric
        AVG:lenient, <category>:lenient, <dataset>:lenient  only when some run has the lenient pipeline
        <dataset>:format_adherence                          idem

    ``n_shot`` is one number when all tasks share it, else ``dataset=N`` pairs separated by spaces.

``radar_<label>.png``, ``radar_all.png``
    The categories counted in AVG on the axes, 0..1; strict solid, lenient dashed (when present).

``worst_examples.md`` (runs with ``--log_samples`` files only)
    Per model and task, the N lowest-scoring samples by the strict per-sample key metric (ties: lowest doc_id
    first). JSTS has only corpus metrics (Pearson/Spearman), so its samples are ranked by the largest
    ``|parse_float(pred) - gold|``, the error llm-jp-eval's correlation sees (an unparsable answer counts as -2.0,
    as in llm-jp-eval). Answers are shown as inline code with newlines drawn as "↵"; prompt tails as fenced blocks.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from lm_eval_jaster.metrics import parse_float
from lm_eval_jaster.registry import CATEGORIES, all_datasets
from lm_eval_jaster.scores import FILTER, LENIENT_FILTER, compute_scores

INSTALL_HINT = "pip install 'lm-eval-jaster[report]'"
PROMPT_TAIL_CHARS = 200
NEWLINE_MARK = "↵"


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


# --- collecting runs ---------------------------------------------------------------------------------------------

def run_date(results_file: Path) -> str:
    """lm-eval's date suffix: ``results_2025-01-01T10-00-00.123456.json`` → ``2025-01-01T10-00-00.123456``."""
    return results_file.stem.rsplit("_", 1)[-1]


class _NotJaster(Exception):
    """A results file that cannot be used; the message says why."""


def collect_runs(paths: Iterable[Path]) -> list[Run]:
    """Runs from results files or folders (searched recursively); SystemExit naming a path that holds none."""
    runs: dict[Path, Run] = {}
    for path in map(Path, paths):
        loaded, skipped = [], []
        for results_file in _results_files(path):
            try:
                loaded.append(_load_run(results_file))
            except _NotJaster as e:
                skipped.append(str(e))
        if not loaded:
            raise SystemExit(f"{path}: no lm-eval results with Jaster tasks ({'; '.join(skipped)})")
        for reason in skipped:
            print(f"skipped {reason}", file=sys.stderr)
        for run in loaded:
            runs.setdefault(run.results_file.resolve(), run)
    return _unique_labels(list(runs.values()))


def _results_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SystemExit(f"{path}: no such file or folder")
    found = sorted(path.rglob("results_*.json"))
    if not found:
        raise SystemExit(f"{path}: no lm-eval results file (results_*.json) in this folder or below")
    return found


def _load_run(results_file: Path) -> Run:
    try:
        results = json.loads(results_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise _NotJaster(f"{results_file}: not readable as JSON ({e})")
    if not isinstance(results, dict) or not isinstance(results.get("results"), dict):
        raise _NotJaster(f"{results_file}: not an lm-eval results file (no \"results\")")
    scores = compute_scores(results)
    if scores is None:
        raise _NotJaster(f"{results_file}: no Jaster task scored with the \"{FILTER}\" filter")
    return Run(_model_label(results, results_file), results_file, results, scores, _samples_files(results_file))


def _model_args(model_args: Any) -> dict[str, Any]:
    if isinstance(model_args, dict):
        return model_args
    if isinstance(model_args, str):  # "pretrained=x,dtype=float32"
        return dict(part.split("=", 1) for part in model_args.split(",") if "=" in part)
    return {}


def _model_label(results: dict, results_file: Path) -> str:
    name = results.get("model_name") or _model_args(results.get("config", {}).get("model_args")).get("pretrained")
    return str(name or results_file.parent.name)


def _samples_files(results_file: Path) -> dict[str, Path]:
    suffix = f"_{run_date(results_file)}.jsonl"
    return {path.name[len("samples_"):-len(suffix)]: path
            for path in sorted(results_file.parent.glob("samples_*.jsonl")) if path.name.endswith(suffix)}


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


# --- Markdown helpers ----------------------------------------------------------------------------------------------

def md_text(text: Any) -> str:
    """Plain text safe in a Markdown table cell or heading: one line, Markdown punctuation backslash-escaped."""
    one_line = re.sub(r"\s*[\r\n]+\s*", " ", str(text))
    return re.sub(r"([\\`*_\[\]<>|~#])", r"\\\1", one_line)


def md_code(text: Any) -> str:
    """Inline code for an answer (not for table cells): newlines drawn as ↵, a backtick fence longer than any run."""
    text = "" if text is None else str(text)
    if not text:
        return "*(empty)*"
    if not text.strip(" "):
        return f"*({len(text)} spaces)*"
    shown = re.sub(r"\r\n|\r|\n", NEWLINE_MARK, text)
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", shown)), default=0) + 1)
    pad = " " if shown[0] in " `" or shown[-1] in " `" else ""  # CommonMark strips one space each side then
    return f"{ticks}{pad}{shown}{pad}{ticks}"


def md_fence(text: str, info: str = "text") -> str:
    """A fenced code block whose backtick fence is longer than any backtick run in the text."""
    ticks = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    body = re.sub(r"\r\n|\r", "\n", text)
    return f"{ticks}{info}\n{body}{'' if body.endswith(chr(10)) else chr(10)}{ticks}"


def _md_table(head: list[str], rows: list[list[str]], numeric_from: int) -> list[str]:
    rule = ["---" if i < numeric_from else "---:" for i in range(len(head))]
    return ["| " + " | ".join(cells) + " |" for cells in [head, rule, *rows]]


# --- leaderboard ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Columns:
    datasets: list[str]  # dataset names, registry order
    categories: list[str]  # category names, llm-jp-eval order
    lenient: bool  # some run has the lenient pipeline


def _columns(runs: list[Run]) -> _Columns:
    return _Columns(
        datasets=[name for name in all_datasets() if any(name in r.scores["datasets"] for r in runs)],
        categories=[name for name in CATEGORIES if any(name in r.scores["categories"] for r in runs)],
        lenient=any(row.get("lenient_score") is not None for r in runs for row in r.scores["datasets"].values()),
    )


def _fmt_limit(limit: Any) -> str:
    if limit is None:
        return "all"
    return str(int(limit)) if isinstance(limit, float) and limit.is_integer() else str(limit)


def _fmt_shots(scores: dict) -> str:
    by_task = scores["num_fewshot"]
    if len(set(by_task.values())) == 1:
        return str(next(iter(by_task.values())))
    return " ".join(f"{name}={by_task.get(row['task'])}" for name, row in scores["datasets"].items())


def _run_info(run: Run) -> dict[str, str]:
    config = run.results.get("config", {})
    args = config.get("model_args")
    return {
        "model": run.label,
        "split": str(run.scores["split"]),
        "limit": _fmt_limit(run.scores["limit"]),
        "n_shot": _fmt_shots(run.scores),
        "missing_categories": " ".join(run.scores["missing_categories"]),
        "chat_template": "yes" if run.results.get("chat_template") else "no",
        "model_args": json.dumps(args, ensure_ascii=False) if isinstance(args, dict) else str(args or ""),
        "results_file": str(run.results_file),
    }


def _strict_values(run: Run, cols: _Columns) -> dict[str, float | None]:
    s = run.scores
    return {"AVG": s["AVG"], **{c: s["categories"].get(c) for c in cols.categories},
            **{d: (s["datasets"].get(d) or {}).get("score") for d in cols.datasets}}


def _lenient_values(run: Run, cols: _Columns) -> dict[str, float | None]:
    s = run.scores
    return {"AVG": s.get("lenient_AVG"), **{c: s.get("lenient_categories", {}).get(c) for c in cols.categories},
            **{d: (s["datasets"].get(d) or {}).get("lenient_score") for d in cols.datasets}}


def _adherence_values(run: Run, cols: _Columns) -> dict[str, float | None]:
    return {d: (run.scores["datasets"].get(d) or {}).get("format_adherence") for d in cols.datasets}


def leaderboard_rows(runs: list[Run]) -> tuple[list[str], list[dict[str, Any]]]:
    """CSV header and one row per run (see the module docstring for the columns)."""
    cols = _columns(runs)
    header, rows = list(_run_info(runs[0])), []
    for run in runs:
        row: dict[str, Any] = _run_info(run)
        row.update(_strict_values(run, cols))
        if cols.lenient:
            row.update({f"{k}:lenient": v for k, v in _lenient_values(run, cols).items()})
            row.update({f"{k}:format_adherence": v for k, v in _adherence_values(run, cols).items()})
        rows.append(row)
    header += [k for k in rows[0] if k not in header]
    return header, rows


def write_leaderboard_csv(runs: list[Run], path: Path) -> None:
    header, rows = leaderboard_rows(runs)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def leaderboard_markdown(runs: list[Run]) -> str:
    """The leaderboard as Markdown (one row per model in each table)."""
    cols = _columns(runs)
    key = {name: all_datasets()[name].key_metric for name in cols.datasets}
    cat_head = [c if CATEGORIES[c].in_avg else f"{c} (not in AVG)" for c in cols.categories]
    score_head = ["AVG", *cat_head, *(f"{d} ({key[d]})" for d in cols.datasets)]
    meta_head = ["model", "split", "limit", "n-shot", "missing"]
    references = sorted({r.scores["reference"] for r in runs})

    def meta(run: Run) -> list[str]:
        info = _run_info(run)
        return [md_text(info[k]) for k in ("model", "split", "limit", "n_shot")] + [
            md_text(info["missing_categories"].replace(" ", ", ") or "–")]

    def scored(values_of) -> list[str]:
        rows = [meta(r) + [_num(v) for v in values_of(r, cols).values()] for r in runs]
        return _md_table(meta_head + score_head, rows, numeric_from=len(meta_head))

    lines = ["# Jaster leaderboard", "",
             f"Reference: {'; '.join(references)}. Scores recomputed from each lm-eval results file with "
             f"`compute_scores`. Compare rows only when split, limit and n-shot agree; AVG is the mean of the "
             f"categories that ran (\"missing\" ones are left out, where llm-jp-eval would count them as 0).", "",
             f"## Strict (filter \"{FILTER}\", llm-jp-eval's scoring)", "", *scored(_strict_values)]
    if cols.lenient:
        lines += ["", f"## Lenient (filter \"{LENIENT_FILTER}\": the answer extracted from free-form output)", "",
                  *scored(_lenient_values), "",
                  "## Format adherence (fraction of answers whose strict and lenient readings agree)", "",
                  *_md_table(["model", *cols.datasets],
                             [[md_text(r.label), *(_num(v) for v in _adherence_values(r, cols).values())]
                              for r in runs], numeric_from=1)]
    run_rows = [[md_text(info[k]) for k in ("model", "results_file", "model_args", "chat_template")]
                for info in map(_run_info, runs)]
    lines += ["", "## Runs", "", *_md_table(["model", "results file", "model_args", "chat template"], run_rows,
                                             numeric_from=4)]
    return "\n".join(lines) + "\n"


# --- radar charts --------------------------------------------------------------------------------------------------

def _matplotlib():
    """(Figure, FigureCanvasAgg), without touching pyplot's global state."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise SystemExit(f"radar charts need matplotlib ({e}): {INSTALL_HINT}")
    return Figure, FigureCanvasAgg


def _radar_axes(runs: list[Run]) -> list[str]:
    return [c for c in CATEGORIES if any(c in r.scores["avg_categories"] for r in runs)]


def _has_lenient(run: Run) -> bool:
    return run.scores.get("lenient_AVG") is not None or bool(run.scores.get("lenient_categories"))


def draw_radar(runs: list[Run], path: Path, title: str) -> None:
    """One polar chart: a strict polygon per run (lenient dashed in the same colour when present)."""
    Figure, FigureCanvasAgg = _matplotlib()
    axes_names = _radar_axes(runs)
    angles = [2 * math.pi * i / len(axes_names) for i in range(len(axes_names))]
    fig = Figure(figsize=(7, 6.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_offset(math.pi / 2)
    ax.set_theta_direction(-1)
    ax.set_xticks(angles, axes_names)
    ax.set_ylim(0, 1)
    ax.set_yticks([0.2, 0.4, 0.6, 0.8, 1.0], ["0.2", "0.4", "0.6", "0.8", "1.0"], fontsize=8)
    closed = angles + angles[:1]
    for i, run in enumerate(runs):
        color = f"C{i % 10}"

        def values(table: dict) -> list[float]:
            v = [table.get(c, float("nan")) for c in axes_names]
            return [float("nan") if x is None else x for x in v + v[:1]]

        avg = run.scores["AVG"]
        ax.plot(closed, values(run.scores["categories"]), color=color, linewidth=2, marker="o", markersize=3,
                label=f"{run.label} (AVG {_num(avg)})")
        ax.fill(closed, [0 if math.isnan(x) else x for x in values(run.scores["categories"])], color=color,
                alpha=0.1)
        if _has_lenient(run):
            ax.plot(closed, values(run.scores.get("lenient_categories", {})), color=color, linewidth=1.5,
                    linestyle="--", label=f"{run.label} lenient (AVG {_num(run.scores.get('lenient_AVG'))})")
    ax.set_title(title, pad=20)
    fig.legend(loc="lower center", fontsize=8, ncol=1, frameon=False)
    fig.subplots_adjust(bottom=min(0.45, 0.1 + 0.035 * len(ax.get_lines())), top=0.88)
    fig.savefig(path, format="png")


def _file_label(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "model"
    name, i = base, 1
    while name in taken or name == "all":
        i += 1
        name = f"{base}_{i}"
    taken.add(name)
    return name


# --- worst examples ------------------------------------------------------------------------------------------------

def _first(value: Any) -> Any:
    """``[["x"]]`` / ``["x"]`` / ``"x"`` → ``"x"``."""
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return value


def _prompt(sample: dict) -> str:
    args = sample.get("arguments")
    if isinstance(args, dict) and args:
        first = next(iter(args.values()))
        return str(first.get("arg_0", "") if isinstance(first, dict) else _first(first))
    return str(_first(args) or "")


def _read_samples(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _badness(sample: dict, key_metric: str) -> tuple[float, str]:
    """(sort key, shown value): higher sort key = worse sample."""
    value = sample.get(key_metric)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return -float(value), f"{key_metric} {float(value):.4f}"
    if isinstance(value, (list, tuple)) and len(value) == 2:  # corpus metric: [pred, gold]
        pred, gold = value
        try:
            error = abs(parse_float(pred) - float(gold))
        except (TypeError, ValueError):
            error = math.inf
        return error, f"|parse_float(pred) - gold| = {error:.2f}"
    return math.inf, f"{key_metric} not recorded"


def worst_samples(samples: list[dict], key_metric: str, n: int) -> list[tuple[dict, dict | None, str]]:
    """The n worst strict samples as (strict line, lenient line of the same doc or None, shown value)."""
    lenient = {s.get("doc_id"): s for s in samples if s.get("filter") == LENIENT_FILTER}
    strict = [s for s in samples if s.get("filter", FILTER) == FILTER]
    ranked = sorted(strict, key=lambda s: (-_badness(s, key_metric)[0], s.get("doc_id", 0)))
    return [(s, lenient.get(s.get("doc_id")), _badness(s, key_metric)[1]) for s in ranked[:n]]


def format_example(strict: dict, lenient: dict | None, shown: str) -> list[str]:
    """Markdown for one sample: heading, prompt tail (fenced), answers and gold (inline code)."""
    prompt = _prompt(strict)
    tail = prompt[-PROMPT_TAIL_CHARS:]
    head = f"#### doc {md_text(strict.get('doc_id'))}: {md_text(shown)}"
    if lenient is not None and isinstance(lenient.get("format_adherence"), (int, float)):
        head += f", format adherence {lenient['format_adherence']:.0f}"
    lines = [head, "", f"Prompt ({'last ' if len(tail) < len(prompt) else ''}{len(tail)} characters):", "",
             md_fence(("…" if len(tail) < len(prompt) else "") + tail), "",
             f"- raw answer: {md_code(_first(strict.get('resps')))}",
             f"- strict answer (\"{FILTER}\"): {md_code(_first(strict.get('filtered_resps')))}"]
    if lenient is not None:
        lines.append(f"- lenient answer: {md_code(_first(lenient.get('filtered_resps')))}")
    lines += [f"- gold: {md_code(_first(strict.get('target')))}", ""]
    return lines


def worst_examples_markdown(runs: list[Run], n: int) -> str:
    """Per model and task, the n lowest-scoring samples (see the module docstring for the ranking)."""
    lines = ["# Worst examples", "",
             f"Per model and task, the {n} lowest-scoring samples by the strict (\"{FILTER}\") per-sample key metric "
             f"(ties: lowest doc_id first). jsts is ranked by the largest |parse_float(pred) - gold|. Newlines in "
             f"answers are shown as {NEWLINE_MARK}.", ""]
    for run in runs:
        lines += [f"## {md_text(run.label)}", ""]
        tasks = [(info, run.samples_files[info.task_name]) for info in all_datasets().values()
                 if info.task_name in run.samples_files]
        if not tasks:
            lines += [f"No samples files next to {md_text(run.results_file)} (run with --log_samples).", ""]
        for info, path in tasks:
            lines += [f"### {md_text(info.task_name)} ({md_text(info.key_metric)})", ""]
            for strict, lenient, shown in worst_samples(_read_samples(path), info.key_metric, n):
                lines += format_example(strict, lenient, shown)
    return "\n".join(lines)


# --- report --------------------------------------------------------------------------------------------------------

def write_report(runs: list[Run], out_dir: Path, worst: int = 5) -> dict[str, Path]:
    """Write the leaderboard, worst examples and radar charts to out_dir; name → path of each file written.

    The text files are written first, so a missing matplotlib (SystemExit) still leaves them.
    """
    if not runs:
        raise SystemExit("no runs to report")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    written["leaderboard.md"] = out_dir / "leaderboard.md"
    written["leaderboard.md"].write_text(leaderboard_markdown(runs), encoding="utf-8")
    written["leaderboard.csv"] = out_dir / "leaderboard.csv"
    write_leaderboard_csv(runs, written["leaderboard.csv"])
    if worst > 0 and any(r.samples_files for r in runs):
        written["worst_examples.md"] = out_dir / "worst_examples.md"
        written["worst_examples.md"].write_text(worst_examples_markdown(runs, worst), encoding="utf-8")
    try:
        taken: set[str] = set()
        for run in runs:
            path = out_dir / f"radar_{_file_label(run.label, taken)}.png"
            draw_radar([run], path, f"{run.label}: llm-jp-eval categories")
            written[path.name] = path
        draw_radar(runs, out_dir / "radar_all.png", "Jaster: llm-jp-eval categories in AVG")
        written["radar_all.png"] = out_dir / "radar_all.png"
    except SystemExit as e:
        raise SystemExit(f"{e} (written so far: {', '.join(map(str, written.values()))})")
    return written


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lm-eval-jaster report",
        description="Leaderboard (Markdown, CSV), radar charts and worst examples for lm-eval runs on Jaster.")
    parser.add_argument("results", nargs="+", type=Path,
                        help="lm-eval results_<date>.json files or folders searched recursively for them")
    parser.add_argument("--output-dir", type=Path, default=Path("jaster_report"),
                        help="where to write the report (default: ./jaster_report)")
    parser.add_argument("--worst", type=int, default=5, metavar="N",
                        help="worst examples per model and task, from --log_samples files (default: 5; 0: none)")
    return parser


def main(argv: list[str]) -> int:
    """``lm-eval-jaster report RESULTS... [--output-dir DIR] [--worst N]``."""
    args = _parser().parse_args(argv)
    runs = collect_runs(args.results)
    written = write_report(runs, args.output_dir, worst=args.worst)
    for path in written.values():
        print(f"wrote {path}")
    print()
    print(written["leaderboard.md"].read_text(encoding="utf-8"), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
