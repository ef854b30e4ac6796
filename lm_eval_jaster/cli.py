"""``lm-eval-jaster``: the ``lm_eval`` CLI with the Jaster tasks registered, plus a few Jaster commands.

    lm-eval-jaster --model hf --model_args pretrained=ORG/MODEL --tasks jaster_all ...   # any lm_eval flags
    lm-eval-jaster export --split dev --output-dir DIR [--datasets jamp,janli] [--data-dir MIRROR]
    lm-eval-jaster scores RESULTS.json [--output FILE]
    lm-eval-jaster report RESULTS_OR_DIRS... [--output-dir DIR] [--worst N]
    lm-eval-jaster tasks-dir
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from lm_eval_jaster import TASKS_DIR

logger = logging.getLogger("lm_eval.jaster")
OWN_COMMANDS = ("export", "scores", "report", "tasks-dir")
_captured_scores: list[dict[str, Any]] = []


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "report":
        from lm_eval_jaster import report

        sys.exit(report.main(argv[1:]))
    if argv and argv[0] in OWN_COMMANDS:
        sys.exit(_own_command(argv))
    run_lm_eval(argv)


# --- lm_eval with our tasks -------------------------------------------------------------------------------------

def register_tasks() -> None:
    """Make every lm-eval TaskManager also index TASKS_DIR, keeping the user's own --include_path (idempotent)."""
    from lm_eval.tasks import manager

    original = manager.TaskManager.__init__
    if getattr(original, "_jaster_patched", False):
        return

    def __init__(self, verbosity=None, include_path=None, include_defaults=True, metadata=None):
        user = [] if not include_path else (list(include_path) if isinstance(include_path, (list, tuple))
                                            else [include_path])
        paths = [str(TASKS_DIR), *[p for p in user if str(p) != str(TASKS_DIR)]]
        original(self, verbosity, paths, include_defaults, metadata)

    __init__._jaster_patched = True
    manager.TaskManager.__init__ = __init__


def _capture_scores() -> None:
    """After lm-eval saves its results, compute the llm-jp-eval table and write it next to the results file."""
    from lm_eval.loggers.evaluation_tracker import EvaluationTracker

    original = EvaluationTracker.save_results_aggregated
    if getattr(original, "_jaster_patched", False):
        return

    def save_results_aggregated(self, results, samples=None, *args, **kwargs):
        out = original(self, results, samples, *args, **kwargs)
        try:
            _on_results(self, results)
        except Exception:  # never lose lm-eval's own results because of the table
            logger.exception("Could not compute the llm-jp-eval score table")
        return out

    save_results_aggregated._jaster_patched = True
    EvaluationTracker.save_results_aggregated = save_results_aggregated


def _results_file(tracker) -> Path | None:
    if not getattr(tracker, "output_path", None):
        return None
    path = Path(tracker.output_path)
    if path.suffix == ".json":
        candidate = path.with_name(f"{path.stem}_{tracker.date_id}.json")
    else:
        candidate = path / str(tracker.general_config_tracker.model_name_sanitized) / f"results_{tracker.date_id}.json"
    return candidate if candidate.is_file() else None


def _on_results(tracker, results: dict) -> None:
    from lm_eval_jaster.scores import compute_scores, scores_path_for, write_scores

    scores = compute_scores(results)
    if scores is None:
        return
    results_file = _results_file(tracker)
    if results_file is not None:
        scores["results_file"] = str(results_file)
        scores_file = scores_path_for(results_file)
        write_scores(scores, scores_file)
        scores["scores_file"] = str(scores_file)
    _captured_scores.append(scores)


def run_lm_eval(argv: list[str]) -> None:
    """Run lm-eval's own CLI (``run``/``ls``/``validate`` or the plain flag form) with the Jaster tasks registered."""
    from lm_eval_jaster.scores import format_table

    register_tasks()
    _capture_scores()
    _captured_scores.clear()
    saved_argv = sys.argv
    sys.argv = ["lm-eval-jaster", *argv]
    try:
        from lm_eval.__main__ import cli_evaluate

        cli_evaluate()
    finally:
        sys.argv = saved_argv
    for scores in _captured_scores:
        print()
        print(format_table(scores))
        if "scores_file" in scores:
            print(f"\nllm-jp-eval scores written to {scores['scores_file']}")


# --- our own commands --------------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lm-eval-jaster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    export = sub.add_parser("export", help="write llm-jp-eval evaluation files (<dir>/<split>/<dataset>.json)")
    export.add_argument("--split", choices=("train", "dev", "test"), required=True)
    export.add_argument("--output-dir", required=True, type=Path)
    export.add_argument("--datasets", help="comma-separated dataset names (default: all)")
    export.add_argument("--data-dir", help="local raw-data mirror (default: $JASTER_DATA_DIR, else download)")

    scores = sub.add_parser("scores", help="print (and save) the llm-jp-eval table of an lm-eval results file")
    scores.add_argument("results", type=Path, help="lm-eval results_<date>.json (from lm_eval or lm-eval-jaster)")
    scores.add_argument("--output", type=Path, help="also write the table as JSON here")

    sub.add_parser("report", help="leaderboards (Markdown, CSV), radar charts and worst examples of one or more runs")
    sub.add_parser("tasks-dir", help="print the task folder, for `lm_eval --include_path`")
    return parser


def _own_command(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "tasks-dir":
        print(TASKS_DIR)
        return 0
    if args.command == "scores":
        from lm_eval_jaster.scores import compute_scores_file_or_exit, format_table, write_scores

        scores = compute_scores_file_or_exit(args.results)
        print(format_table(scores))
        if args.output:
            write_scores(scores, args.output)
        return 0
    return _export(args)


def _export(args: argparse.Namespace) -> int:
    from lm_eval_jaster.data import build_splits
    from lm_eval_jaster.export import write_llm_jp_eval_json
    from lm_eval_jaster.registry import all_datasets, get_dataset
    from lm_eval_jaster.sources import JasterDataError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        infos = ([get_dataset(n.strip()) for n in args.datasets.split(",") if n.strip()] if args.datasets
                 else list(all_datasets().values()))
    except KeyError as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return 2
    failures = 0
    for info in infos:
        try:
            splits = build_splits(info, args.data_dir)
        except JasterDataError as e:
            print(f"{info.name}: FAILED: {e}", file=sys.stderr)
            failures += 1
            continue
        path = args.output_dir / args.split / f"{info.name}.json"
        digest = write_llm_jp_eval_json(info, splits[args.split], path)
        status = ""
        if args.split == "dev" and info.published_dev_sha256:
            if digest == info.published_dev_sha256:
                status = f"  matches llm-jp-eval {info.published_dev_sha256_version}'s published sha256"
            else:
                status = (f"  DIFFERS from llm-jp-eval {info.published_dev_sha256_version}'s published sha256 "
                          f"{info.published_dev_sha256}")
                failures += 1
        print(f"{path}  {len(splits[args.split])} samples  sha256 {digest}{status}")
    return 1 if failures else 0
