"""Shared helpers of the benchmark suite: the complete raw-data mirror, fixture checksums, machine description.

The raw-data mirror (``../shared/data``) lacks the JNLI/JSQuAD train files and the chABSA zip. As the tests do
(``tests/conftest.py``; its small helpers are re-implemented here rather than imported, so that the suite does not
depend on pytest fixtures), the suite lays the hand-written fixtures of ``tests/fixtures`` over a symlinked copy of
the mirror and registers the fixtures' sha256 in the manifest. The manifest lives in each process's memory, so every
benchmark subprocess calls :func:`apply_pins`, which reads the checksums from ``$JASTER_BENCH_PINS`` (JSON, written
by the orchestrator) and patches ``lm_eval_jaster.sources.manifest()`` before anything reads a raw file.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import platform
import shutil
import sys
import zipfile
from pathlib import Path

# The suite writes nothing outside benchmarks/: no bytecode next to tests/reference.py or the fixture makers.
sys.dont_write_bytecode = True

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
TESTS_DIR = REPO / "tests"
PINS_ENV = "JASTER_BENCH_PINS"


FIXTURES = TESTS_DIR / "fixtures"


def default_shared_data() -> Path:
    """../shared/data next to the checkout, as tests/conftest.py uses."""
    return REPO.parent / "shared" / "data"


def _fixture_files() -> dict[tuple[str, str], Path]:
    """tests/fixtures/<source>/<upstream path> for every (source, path) in the manifest (tests/conftest.py's rule)."""
    from lm_eval_jaster.sources import manifest

    found = {}
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file():
            source, _, upstream = path.relative_to(FIXTURES).as_posix().partition("/")
            if (source, upstream) in manifest():
                found[(source, upstream)] = path
    return found


def _run_maker(maker: Path, source_dir: Path) -> list[str]:
    """tests/fixtures/<source>/_make.py: ``make(source_dir) -> [upstream paths]`` writes archives (e.g. chABSA's zip)."""
    spec = importlib.util.spec_from_file_location(f"bench_fixture_maker_{maker.parent.name}", maker)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make(source_dir)


def _chabsa_zip_fallback(source_dir: Path) -> list[str]:
    """Older fixture layout (no _make.py): zip tests/fixtures/chabsa/chABSA-dataset/*.json as upstream does."""
    with zipfile.ZipFile(source_dir / "chABSA-dataset.zip", "w") as zf:
        for path in sorted((FIXTURES / "chabsa" / "chABSA-dataset").glob("*.json")):
            info = zipfile.ZipInfo(f"chABSA-dataset/{path.name}", date_time=(2018, 1, 1, 0, 0, 0))
            zf.writestr(info, path.read_bytes())
    return ["chABSA-dataset.zip"]


def build_mirror(shared_data: Path, root: Path) -> tuple[Path, dict[str, str]]:
    """A complete mirror under ``root``: ``shared_data`` symlinked, plus the hand-written fixtures of tests/fixtures.

    Same rule as the tests' ``mirror`` fixture (tests/conftest.py): a file tests/fixtures/<source>/<upstream path>
    that the manifest lists is laid over the mirror; tests/fixtures/<source>/_make.py builds archives. Returns
    (mirror dir, {"source|upstream path": sha256 of every fixture placed}).
    """
    from lm_eval_jaster.sources import file_digests, manifest

    if not shared_data.is_dir():
        raise SystemExit(f"raw-data mirror {shared_data} not found; pass --data-dir")
    root.mkdir(parents=True, exist_ok=True)
    for source in sorted(p for p in shared_data.iterdir() if p.is_dir()):
        (root / source.name).symlink_to(source, target_is_directory=True)

    def own_folder(source: str) -> Path:  # a real folder of links, so that fixtures can be added to it
        target = root / source
        if target.is_symlink():
            target.unlink()
            shutil.copytree(shared_data / source, target, copy_function=os.symlink)
            for folder, _, _ in os.walk(target):  # copytree copies the read-only mirror's folder modes
                os.chmod(folder, 0o755)
        target.mkdir(parents=True, exist_ok=True)
        return target

    placed: dict[tuple[str, str], Path] = {}
    for (source, upstream), fixture in _fixture_files().items():
        dest = own_folder(source) / upstream
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink():
            dest.unlink()
        shutil.copyfile(fixture, dest)
        placed[(source, upstream)] = dest
    makers = sorted(FIXTURES.glob("*/_make.py"))
    for maker in makers:
        source_dir = own_folder(maker.parent.name)
        for upstream in _run_maker(maker, source_dir):
            placed[(maker.parent.name, upstream)] = source_dir / upstream
    if (not any(m.parent.name == "chabsa" for m in makers) and (FIXTURES / "chabsa" / "chABSA-dataset").is_dir()
            and ("chabsa", "chABSA-dataset.zip") in manifest()):
        for upstream in _chabsa_zip_fallback(own_folder("chabsa")):
            placed[("chabsa", upstream)] = root / "chabsa" / upstream
    pins = {f"{source}|{upstream}": file_digests(path)[0] for (source, upstream), path in placed.items()}
    return root, pins


def fixture_sources(pins: dict[str, str]) -> set[str]:
    return {key.split("|", 1)[0] for key in pins}


def apply_pins() -> None:
    """Register the fixtures' sha256 (from $JASTER_BENCH_PINS) in this process's manifest."""
    raw = os.environ.get(PINS_ENV)
    if not raw:
        return
    from lm_eval_jaster.sources import manifest

    entries = manifest()
    for key, sha in json.loads(raw).items():
        source, upstream = key.split("|", 1)
        entries[(source, upstream)] = dataclasses.replace(entries[(source, upstream)], sha256=sha)


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
