"""Compare lm-eval runs on Jaster: leaderboards, paired comparisons, radar charts and each model's worst examples.

    lm-eval-jaster report BASE OTHER... [--output-dir DIR] [--label NAME ...] [--worst N] [--no-html]

The first run is the baseline; scores are recomputed from each results file with
:func:`lm_eval_jaster.scores.compute_scores`. Jobs: :mod:`.runs` (collecting runs, samples, intervals),
:mod:`.leaderboard`, :mod:`.compare`, :mod:`.charts`, :mod:`.examples`, :mod:`.html`, :mod:`.cli` (writing it all;
``main``). What each output file holds: docs/report.md.
"""

from __future__ import annotations

from lm_eval_jaster.report.charts import INSTALL_HINT, draw_radar
from lm_eval_jaster.report.cli import main, write_report
from lm_eval_jaster.report.compare import Comparison, compare_runs, comparisons
from lm_eval_jaster.report.examples import format_example, worst_examples_markdown, worst_samples
from lm_eval_jaster.report.leaderboard import (
    Group,
    comparable_groups,
    coverage_table,
    leaderboard_markdown,
    leaderboard_rows,
)
from lm_eval_jaster.report.markdown import md_code, md_fence, md_text
from lm_eval_jaster.report.runs import (
    ReportError,
    Run,
    SampleRecord,
    ScoreIntervals,
    collect_runs,
    model_label,
    read_samples,
    run_date,
)
from lm_eval_jaster.stats import category_members

__all__ = [
    "INSTALL_HINT", "Comparison", "Group", "ReportError", "Run", "SampleRecord", "ScoreIntervals",
    "category_members", "collect_runs", "comparable_groups", "compare_runs", "comparisons", "coverage_table",
    "draw_radar", "format_example", "leaderboard_markdown", "leaderboard_rows", "main", "md_code", "md_fence",
    "md_text", "model_label", "read_samples", "run_date", "worst_examples_markdown", "worst_samples", "write_report",
]
