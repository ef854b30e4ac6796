"""``lm-eval-jaster``: the ``lm_eval`` CLI with the Jaster tasks registered, plus the Jaster commands.

    lm-eval-jaster --model hf --model_args pretrained=ORG/MODEL --tasks jaster_all ...   # any lm_eval flags
    lm-eval-jaster data status | data download [--datasets ...] [--to DIR]
    lm-eval-jaster tasks | export | scores | report | tasks-dir

Around lm-eval's own run, it checks settings and data before the model is loaded (:mod:`lm_eval_jaster.preflight`),
leaves out missing datasets on request, and prints and saves llm-jp-eval's score table after the run.
"""

from __future__ import annotations

import difflib
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from lm_eval_jaster import TASKS_DIR
from lm_eval_jaster.errors import JasterError

logger = logging.getLogger("lm_eval.jaster")
LM_EVAL_COMMANDS = ("run", "ls", "validate")


class _RunContext:
    """What one ``lm-eval-jaster`` run learns on the way, for the score table."""

    def __init__(self) -> None:
        self.plan = None  # preflight.RunPlan
        self.sample_values: dict[str, dict[tuple[str, str], list]] = {}  # task → (key metric, filter) → values
        self.scores: list[dict[str, Any]] = []


_context = _RunContext()


def main(argv: list[str] | None = None) -> int:
    """The console script: the exit status (0: done; 2: one of this project's errors, printed as one line and a
    hint, with the traceback only under ``--verbosity DEBUG``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return dispatch(argv)
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except JasterError as e:
        if _debug(argv):
            traceback.print_exc()
        print(f"lm-eval-jaster: error: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"hint: {e.hint}", file=sys.stderr)
        return 2


def _debug(argv: list[str]) -> bool:
    level = os.environ.get("LMEVAL_LOG_LEVEL", "")
    for i, arg in enumerate(argv):
        if arg == "--verbosity" and i + 1 < len(argv):
            level = argv[i + 1]
        elif arg.startswith("--verbosity="):
            level = arg.split("=", 1)[1]
    return level.upper() == "DEBUG"


def dispatch(argv: list[str]) -> int:
    from lm_eval_jaster import commands

    if not argv or argv[0] in ("-h", "--help"):
        print_help()
        return 0
    if argv[0] == "report":
        from lm_eval_jaster import report

        return report.main(argv[1:])
    if argv[0] in commands.COMMANDS:
        return commands.run(argv)
    if argv[0] == "validate":
        return validate(argv)
    run_lm_eval(argv)
    return 0


def print_help() -> None:
    from lm_eval._cli import HarnessCLI

    from lm_eval_jaster import commands

    HarnessCLI()._parser.print_help()
    print("\nJaster commands (lm-eval-jaster COMMAND --help for each):")
    for name, text in commands.COMMANDS.items():
        print(f"  {name:<10} {text}")
    print("\nThe lm-eval commands above run with the Jaster tasks registered, e.g.\n"
          "  lm-eval-jaster --model hf --model_args pretrained=ORG/MODEL --tasks jaster_all --output_path results "
          "--log_samples\nSettings (--metadata keys, JASTER_* variables): see the README, \"Settings\".")


# --- lm_eval with our tasks -------------------------------------------------------------------------------------

def register_tasks() -> None:
    """Make every lm-eval TaskManager also index TASKS_DIR, keeping the user's own --include_path (idempotent)."""
    from lm_eval.tasks import manager

    def init(original):
        def __init__(self, verbosity=None, include_path=None, include_defaults=True, metadata=None):
            user = [] if not include_path else (list(include_path) if isinstance(include_path, (list, tuple))
                                                else [include_path])
            paths = [str(TASKS_DIR), *[p for p in user if str(p) != str(TASKS_DIR)]]
            original(self, verbosity, paths, include_defaults, metadata)
        return __init__

    _patch(manager.TaskManager, "__init__", init)


def _patch(owner: Any, name: str, make) -> None:
    original = getattr(owner, name)
    if getattr(original, "_jaster_patched", False):
        return
    patched = make(original)
    patched._jaster_patched = True
    setattr(owner, name, patched)


def _install_hooks() -> None:
    """Preflight after lm-eval resolves --tasks (before the model), skipped datasets out of groups, per-sample values
    kept for intervals, the llm-jp-eval table after lm-eval saves its results."""
    from lm_eval import evaluator_utils
    from lm_eval.config.evaluate_config import EvaluatorConfig
    from lm_eval.loggers.evaluation_tracker import EvaluationTracker
    from lm_eval.tasks._factory import TaskFactory

    def process_tasks(original):
        def wrapper(self, metadata=None):
            from lm_eval_jaster import preflight

            task_manager = original(self, metadata)
            plan = preflight.check_run(list(self.tasks or []), self.metadata, self.model,
                                       bool(self.confirm_run_unsafe_code), bool(self.apply_chat_template))
            _context.plan = plan
            if plan.skip_names:
                self.tasks = [t for t in self.tasks if not (isinstance(t, str) and t in plan.skip_names)]
                if not self.tasks:
                    raise JasterError("every requested task was left out (jaster_missing: skip) for lack of data.")
            return task_manager
        return wrapper

    def build_group_members(original):
        def wrapper(self, member_list, group_name, overrides, registry):
            skip = _context.plan.skip_names if _context.plan is not None else set()
            kept = [m for m in member_list if not (isinstance(m, str) and m in skip)]
            return original(self, kept, group_name, overrides, registry)
        return wrapper

    def compute_task_aggregations(original):
        def wrapper(task, raw_metrics, *args, **kwargs):
            if getattr(task, "info", None) is not None and task.task_name.startswith("jaster_"):
                key = (task.info.key_metric, "llm-jp-eval")  # what the intervals resample
                if key in raw_metrics:
                    _context.sample_values[task.task_name] = {key: list(raw_metrics[key])}
            return original(task, raw_metrics, *args, **kwargs)
        return wrapper

    def save_results_aggregated(original):
        def wrapper(self, results, samples=None, *args, **kwargs):
            out = original(self, results, samples, *args, **kwargs)
            try:
                _on_results(self, results)
            except Exception:  # never lose lm-eval's own results because of the table
                logger.exception("Could not compute the llm-jp-eval score table")
            return out
        return wrapper

    _patch(EvaluatorConfig, "process_tasks", process_tasks)
    _patch(TaskFactory, "_build_group_members", build_group_members)
    _patch(evaluator_utils, "_compute_task_aggregations", compute_task_aggregations)
    _patch(EvaluationTracker, "save_results_aggregated", save_results_aggregated)


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
    from lm_eval_jaster.scores import compute_scores, samples_from_raw_metrics, scores_path_for, write_scores

    plan = _context.plan
    scores = compute_scores(results, samples_from_raw_metrics(_context.sample_values),
                            skipped=[i.name for i in plan.skipped] if plan is not None else [])
    if scores is None:
        return
    results_file = _results_file(tracker)
    if results_file is not None:
        scores["results_file"] = str(results_file)
        scores_file = scores_path_for(results_file)
        write_scores(scores, scores_file)
        scores["scores_file"] = str(scores_file)
    _context.scores.append(scores)


def run_lm_eval(argv: list[str]) -> None:
    """Run lm-eval's own CLI (``run``/``ls`` or the plain flag form) with the Jaster tasks registered."""
    from lm_eval_jaster.scores import format_table

    register_tasks()
    _install_hooks()
    _context.__init__()
    saved_argv = sys.argv
    sys.argv = ["lm-eval-jaster", *argv]
    try:
        from lm_eval.__main__ import cli_evaluate

        try:
            cli_evaluate()
        except ValueError as e:
            if str(e).startswith("Tasks not found"):
                raise _unknown_tasks(str(e)) from e
            raise
    finally:
        sys.argv = saved_argv
    for scores in _context.scores:
        print()
        print(format_table(scores))
        if "scores_file" in scores:
            print(f"\nllm-jp-eval scores written to {scores['scores_file']}")


def _unknown_tasks(message: str) -> JasterError:
    from lm_eval_jaster import groups
    from lm_eval_jaster.registry import all_datasets

    names = [n.strip() for n in message.split(":", 1)[-1].split(",")]
    known = [i.task_name for i in all_datasets().values()] + list(groups.group_members())
    hints = []
    for name in names:
        match = difflib.get_close_matches(name, known, n=1)
        if match:
            hints.append(f"{name} → {match[0]}?")
    return JasterError(message + ".", ("Did you mean " + ", ".join(hints) + " " if hints else "")
                       + "`lm-eval-jaster tasks` lists the Jaster tasks and groups.")


def _tasks_argument(argv: list[str]) -> list[str]:
    for i, arg in enumerate(argv):
        if arg in ("--tasks", "-t") and i + 1 < len(argv):
            return [t.strip() for t in argv[i + 1].split(",") if t.strip()]
        if arg.startswith("--tasks="):
            return [t.strip() for t in arg.split("=", 1)[1].split(",") if t.strip()]
    return []


def validate(argv: list[str]) -> int:
    """lm-eval's ``validate``, then the data of the Jaster tasks among --tasks (nothing is downloaded)."""
    from lm_eval_jaster import preflight, settings

    register_tasks()
    saved_argv = sys.argv
    sys.argv = ["lm-eval-jaster", *argv]
    try:
        from lm_eval.__main__ import cli_evaluate

        cli_evaluate()
    except SystemExit as e:
        if e.code not in (0, None):
            raise
    finally:
        sys.argv = saved_argv
    datasets = preflight.requested_datasets(_tasks_argument(argv))
    if not datasets:
        return 0
    settings.check_environment()
    check = preflight.check_data(datasets, download=False)
    later = {s: [f for f in files if f.state == "not downloaded"] for s, files in check.missing.items()}
    check.missing = {s: [f for f in files if f.state != "not downloaded"] for s, files in check.missing.items()}
    check.missing = {s: files for s, files in check.missing.items() if files}
    if check.missing:
        raise preflight.missing_message(check, ", ".join(_tasks_argument(argv)))
    to_fetch = sum(len(files) for files in later.values())
    print(f"Jaster data: the raw files of {len(datasets)} dataset(s) are "
          + (f"here or downloadable ({to_fetch} file(s) will be downloaded on first use; `lm-eval-jaster data "
             f"download` fetches them now)" if to_fetch else "here")
          + f" ({', '.join(i.name for i in datasets)}).")
    return 0
