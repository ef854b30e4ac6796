"""The complete raw-data mirror of the tests and the benchmarks: ../shared/data (symlinked) plus hand-written
fixtures for the raw files it lacks.

A fixture is ``tests/fixtures/<source>/<upstream path>`` for a (source, path) the manifest lists; a source whose raw
file is an archive provides ``tests/fixtures/<source>/_make.py`` with ``make(source_dir: Path) -> list[str]`` that
writes the archive(s) into ``source_dir`` and returns their upstream paths. The fixtures are not the upstream files:
:func:`apply_pins` registers their sha256 in a process's manifest.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

Key = tuple[str, str]  # (source, upstream path)


def fixture_files() -> dict[Key, Path]:
    """tests/fixtures/<source>/<upstream path> for every (source, path) in the manifest."""
    from lm_eval_jaster.sources import manifest

    found = {}
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file():
            source, _, upstream = path.relative_to(FIXTURES).as_posix().partition("/")
            if (source, upstream) in manifest():
                found[(source, upstream)] = path
    return found


def fixture_makers() -> list[Path]:
    return sorted(FIXTURES.glob("*/_make.py"))


def run_maker(maker: Path, source_dir: Path) -> list[str]:
    spec = importlib.util.spec_from_file_location(f"fixture_maker_{maker.parent.name}", maker)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make(source_dir)


def build_mirror(shared_data: Path, root: Path) -> dict[Key, Path]:
    """Lay the complete mirror out under ``root``; return where each fixture was placed."""
    if not (shared_data / "MANIFEST.tsv").is_file():
        raise FileNotFoundError(f"the raw-data mirror {shared_data} is missing; the tests and benchmarks read "
                                f"upstream files from there")
    root.mkdir(parents=True, exist_ok=True)
    for source in sorted(p for p in shared_data.iterdir() if p.is_dir()):
        (root / source.name).symlink_to(source, target_is_directory=True)

    def own_folder(source: str) -> Path:
        """Replace the symlink to <shared_data>/<source> by a real folder (of links) that fixtures can join."""
        target = root / source
        if target.is_symlink():
            target.unlink()
            shutil.copytree(shared_data / source, target, copy_function=os.symlink)
            for folder, _, _ in os.walk(target):  # copytree copies a read-only mirror's folder modes
                os.chmod(folder, 0o755)
        target.mkdir(parents=True, exist_ok=True)
        return target

    placed: dict[Key, Path] = {}
    for (source, upstream), fixture in fixture_files().items():
        dest = own_folder(source) / upstream
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink():
            dest.unlink()
        shutil.copyfile(fixture, dest)
        placed[(source, upstream)] = dest
    for maker in fixture_makers():
        source_dir = own_folder(maker.parent.name)
        for upstream in run_maker(maker, source_dir):
            placed[(maker.parent.name, upstream)] = source_dir / upstream
    return placed


def fixture_pins(placed: dict[Key, Path]) -> dict[Key, str]:
    """The sha256 of every placed fixture."""
    from lm_eval_jaster.sources import file_digests

    return {key: file_digests(path)[0] for key, path in placed.items()}


def apply_pins(pins: dict[Key, str]) -> dict[Key, object]:
    """Register the fixtures' sha256 in this process's manifest; return the entries replaced (to restore them)."""
    from lm_eval_jaster.sources import manifest

    entries = manifest()
    saved = {}
    for key, sha256 in pins.items():
        saved[key] = entries[key]
        entries[key] = dataclasses.replace(entries[key], sha256=sha256)
    return saved
