"""Radar charts of the categories counted in AVG (matplotlib, without pyplot's global state).

One polygon per run (strict, solid; lenient dashed in the same colour when the run has it). The legend sits beside
the chart, one entry per run with its AVG, so ten runs fit.
"""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

from lm_eval_jaster.registry import CATEGORIES
from lm_eval_jaster.report.markdown import num
from lm_eval_jaster.report.runs import ReportError, Run

INSTALL_HINT = "pip install 'lm-eval-jaster[report]'"
LEGEND_WRAP = 34  # characters per legend line


def _matplotlib():
    """(Figure, FigureCanvasAgg, Line2D), without touching pyplot's global state."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
    except ImportError as e:
        raise ReportError(f"radar charts need matplotlib ({e}).", INSTALL_HINT) from None
    return Figure, FigureCanvasAgg, Line2D


def radar_axes(runs: list[Run]) -> list[str]:
    return [c for c in CATEGORIES if any(c in r.scores["avg_categories"] for r in runs)]


def has_lenient(run: Run) -> bool:
    return run.scores.get("lenient_AVG") is not None or bool(run.scores.get("lenient_categories"))


def _legend_text(run: Run) -> str:
    avg = f"AVG {num(run.scores['AVG'])}"
    if has_lenient(run):
        avg += f" (lenient {num(run.scores.get('lenient_AVG'))})"
    return textwrap.fill(run.label, LEGEND_WRAP) + "\n" + avg


def draw_radar(runs: list[Run], path: Path, title: str) -> None:
    """One polar chart: a strict polygon per run (lenient dashed in the same colour when present)."""
    Figure, FigureCanvasAgg, Line2D = _matplotlib()
    axes_names = radar_axes(runs)
    angles = [2 * math.pi * i / max(len(axes_names), 1) for i in range(len(axes_names))]
    columns = 1 if len(runs) <= 12 else 2
    fig = Figure(figsize=(7 + 3.6 * columns, 6.5), dpi=100)
    FigureCanvasAgg(fig)
    chart_width = 6.2 / fig.get_figwidth()
    ax = fig.add_axes((0.4 / fig.get_figwidth(), 0.08, chart_width, 0.78), projection="polar")
    ax.set_theta_offset(math.pi / 2)
    ax.set_theta_direction(-1)
    ax.set_xticks(angles, axes_names)
    ax.set_ylim(0, 1)
    ax.set_yticks([0.2, 0.4, 0.6, 0.8, 1.0], ["0.2", "0.4", "0.6", "0.8", "1.0"], fontsize=8)
    closed = angles + angles[:1]
    handles, any_lenient = [], False
    for i, run in enumerate(runs):
        color = f"C{i % 10}"
        style = "-" if i < 10 else ":"  # colours repeat after ten runs

        def values(table: dict) -> list[float]:
            v = [table.get(c, float("nan")) for c in axes_names]
            return [float("nan") if x is None else x for x in v + v[:1]]

        strict = values(run.scores["categories"])
        [line] = ax.plot(closed, strict, color=color, linewidth=2, linestyle=style, marker="o", markersize=3)
        ax.fill(closed, [0 if math.isnan(x) else x for x in strict], color=color, alpha=0.08)
        if has_lenient(run):
            any_lenient = True
            ax.plot(closed, values(run.scores.get("lenient_categories", {})), color=color, linewidth=1.2,
                    linestyle="--")
        handles.append((line, _legend_text(run)))
    if any_lenient:
        handles += [(Line2D([], [], color="0.3", linewidth=2), "strict (llm-jp-eval)"),
                    (Line2D([], [], color="0.3", linewidth=1.2, linestyle="--"), "lenient")]
    ax.set_title(title, pad=22)
    fig.legend([h for h, _ in handles], [t for _, t in handles], loc="center left",
               bbox_to_anchor=((0.4 + 6.2 + 0.3) / fig.get_figwidth(), 0.5), fontsize=8, ncol=columns,
               frameon=False, handlelength=2.5, labelspacing=0.9)
    fig.savefig(path, format="png")


def file_label(label: str, taken: set[str]) -> str:
    """A file-name-safe, unique form of a run label (never "all")."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "model"
    name, i = base, 1
    while name in taken or name == "all":
        i += 1
        name = f"{base}_{i}"
    taken.add(name)
    return name
