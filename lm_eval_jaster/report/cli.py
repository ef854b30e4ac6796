"""``lm-eval-jaster report``: write every part of the report, and the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lm_eval_jaster.errors import JasterError
from lm_eval_jaster.report.charts import draw_radar, file_label
from lm_eval_jaster.report.compare import comparison_markdown, comparisons, write_comparison_csv
from lm_eval_jaster.report.examples import worst_examples_markdown
from lm_eval_jaster.report.html import write_html
from lm_eval_jaster.report.leaderboard import leaderboard_markdown, write_leaderboard_csv
from lm_eval_jaster.report.runs import ReportError, Run, collect_runs


def write_report(runs: list[Run], out_dir: Path, worst: int = 5, html: bool = True) -> dict[str, Path]:
    """Write the leaderboard, comparisons, worst examples, report.html (unless ``html`` is False) and radar charts
    to out_dir; name → path of each file.

    The text files and report.html are written first, so a missing matplotlib (ReportError) still leaves them.
    """
    if not runs:
        raise ReportError("no runs to report.", "Give at least one lm-eval results file or folder.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    def text(name: str, content: str) -> None:
        written[name] = out_dir / name
        written[name].write_text(content, encoding="utf-8")

    text("leaderboard.md", leaderboard_markdown(runs))
    written["leaderboard.csv"] = out_dir / "leaderboard.csv"
    write_leaderboard_csv(runs, written["leaderboard.csv"])
    found = []
    if len(runs) > 1:
        found = comparisons(runs)
        written["comparison.csv"] = out_dir / "comparison.csv"
        write_comparison_csv(found, written["comparison.csv"])
        text("comparison.md", comparison_markdown(found))
    if worst > 0 and any(r.samples_files for r in runs):
        text("worst_examples.md", worst_examples_markdown(runs, worst))
    if html:
        written["report.html"] = write_html(runs, out_dir / "report.html", found)
    try:
        taken: set[str] = set()
        for run in runs:
            path = out_dir / f"radar_{file_label(run.label, taken)}.png"
            draw_radar([run], path, f"{run.label}: llm-jp-eval categories")
            written[path.name] = path
        draw_radar(runs, out_dir / "radar_all.png", "Jaster: llm-jp-eval categories in AVG")
        written["radar_all.png"] = out_dir / "radar_all.png"
    except ReportError as e:
        raise ReportError(f"{e.message} Written so far: {', '.join(map(str, written.values()))}.", e.hint) from None
    return written


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lm-eval-jaster report",
        description="Leaderboard (Markdown, CSV), paired comparisons with the first run, radar charts and worst "
                    "examples for lm-eval runs on Jaster.")
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS",
                        help="lm-eval results_<date>.json files or folders searched recursively for them; the first "
                             "run is the baseline of the comparisons")
    parser.add_argument("--output-dir", type=Path, default=Path("jaster_report"),
                        help="where to write the report (default: ./jaster_report)")
    parser.add_argument("--label", action="append", metavar="NAME", default=[],
                        help="name of a run in the report, once per run in order (default: the model's last path "
                             "component)")
    parser.add_argument("--worst", type=int, default=5, metavar="N",
                        help="worst examples per model and task, from --log_samples files (default: 5; 0: none)")
    parser.add_argument("--no-html", action="store_true",
                        help="do not write report.html (the leaderboard, comparisons, charts and a browser of "
                             "every sample, in one offline page)")
    return parser


def main(argv: list[str]) -> int:
    """``lm-eval-jaster report RESULTS... [--output-dir DIR] [--label NAME ...] [--worst N]``; 0 on success, 2 on
    a user error (printed as one line and a hint)."""
    args = _parser().parse_args(argv)
    try:
        runs = collect_runs(args.results, args.label)
        written = write_report(runs, args.output_dir, worst=args.worst, html=not args.no_html)
    except JasterError as e:
        print(f"error: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"hint: {e.hint}", file=sys.stderr)
        return 2
    for path in written.values():
        print(f"wrote {path}")
    print()
    print(written["leaderboard.md"].read_text(encoding="utf-8"), end="")
    return 0
