"""Shared helpers of the benchmark suite: the complete raw-data mirror, fixture checksums, machine description.

The raw-data mirror (``../shared/data``) lacks some raw files; as the tests do, the suite lays the hand-written
fixtures of ``tests/fixtures`` over a symlinked copy of it with ``tests/fixture_mirror.py`` (one module for both). The
manifest lives in each process's memory, so every benchmark subprocess calls :func:`apply_pins`, which reads the
fixtures' checksums from ``$JASTER_BENCH_PINS`` (JSON, written by the orchestrator).
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

# The suite writes nothing outside benchmarks/: no bytecode next to tests/*.py or the fixture makers.
sys.dont_write_bytecode = True

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
TESTS_DIR = REPO / "tests"
PINS_ENV = "JASTER_BENCH_PINS"
sys.path.insert(0, str(TESTS_DIR))

import fixture_mirror  # noqa: E402  (tests/fixture_mirror.py)


def default_shared_data() -> Path:
    """../shared/data next to the checkout, as the tests use."""
    return fixture_mirror.SHARED_DATA


def build_mirror(shared_data: Path, root: Path) -> tuple[Path, dict[str, str]]:
    """The complete mirror under ``root`` (tests/fixture_mirror.py); returns (mirror dir, {"source|upstream path":
    sha256 of every fixture placed})."""
    try:
        placed = fixture_mirror.build_mirror(shared_data, root)
    except FileNotFoundError as e:
        raise SystemExit(f"{e}; pass --data-dir")
    return root, {f"{source}|{upstream}": sha for (source, upstream), sha in fixture_mirror.fixture_pins(placed).items()}


def fixture_sources(pins: dict[str, str]) -> set[str]:
    return {key.split("|", 1)[0] for key in pins}


def apply_pins() -> None:
    """Register the fixtures' sha256 (from $JASTER_BENCH_PINS) in this process's manifest."""
    raw = os.environ.get(PINS_ENV)
    if raw:
        fixture_mirror.apply_pins({tuple(key.split("|", 1)): sha for key, sha in json.loads(raw).items()})


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    from importlib.metadata import version

    def v(pkg: str) -> str:
        try:
            return version(pkg)
        except Exception:
            return "?"

    return {
        "CPU": cpu,
        "cores (os.cpu_count)": str(os.cpu_count()),
        "usable cores (affinity)": str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else "?",
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "lm-eval": v("lm_eval"),
        "lm-eval-jaster": v("lm_eval_jaster"),
        "datasets": v("datasets"),
        "rhoknp": v("rhoknp"),
        "rapidfuzz": v("rapidfuzz"),
    }


def md_table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """A Markdown table; ``align`` is one char per column, 'l' or 'r' (default: first left, rest right)."""
    align = align or ("l" + "r" * (len(headers) - 1))
    cells = [[str(c) for c in row] for row in rows]
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(out)


def emit_json(obj) -> None:
    """Children report to the orchestrator with one line on stdout, prefixed so that other output cannot confuse it."""
    sys.stdout.write("\n@@BENCH@@" + json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def parse_json(stdout: str):
    for line in reversed(stdout.splitlines()):
        if line.startswith("@@BENCH@@"):
            return json.loads(line[len("@@BENCH@@"):])
    raise ValueError("no @@BENCH@@ line in the child's output")
