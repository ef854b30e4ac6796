"""Shared test setup: offline, a raw-data mirror (../shared/data plus hand-written fixtures), a private cache."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = Path(__file__).parent / "fixtures"



def fixture_files() -> dict[tuple[str, str], Path]:
    """Hand-written stand-ins for raw files ../shared/data lacks: tests/fixtures/<source>/<upstream path>.

    Only files whose (source, path) is in the manifest count. A source whose raw file is an archive can instead
    provide tests/fixtures/<source>/_make.py with ``make(source_dir: Path) -> list[str]`` that writes the archive(s)
    into source_dir and returns their upstream paths.
    """
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


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "MANIFEST.tsv").is_file():
        pytest.fail(f"the raw-data mirror {SHARED_DATA} is missing; the tests read upstream files from there")
    return SHARED_DATA


def _run_maker(maker: Path, source_dir: Path) -> list[str]:
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"fixture_maker_{maker.parent.name}", maker)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make(source_dir)


def _own_folder(root: Path, shared_data: Path, source: str) -> Path:
    """Replace the symlink to ../shared/data/<source> by a real folder (of links) that fixtures can be added to."""
    target = root / source
    if target.is_symlink():
        target.unlink()
        shutil.copytree(shared_data / source, target, copy_function=os.symlink)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture(scope="session")
def mirror_and_fixtures(shared_data, tmp_path_factory) -> tuple[Path, dict[tuple[str, str], Path]]:
    """A complete mirror: ../shared/data (symlinked) plus fixtures for the files it does not hold."""
    root = tmp_path_factory.mktemp("mirror")
    for source in sorted(p for p in shared_data.iterdir() if p.is_dir()):
        (root / source.name).symlink_to(source, target_is_directory=True)
    placed = {}
    for (source, upstream), fixture in fixture_files().items():
        dest = _own_folder(root, shared_data, source) / upstream
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink():
            dest.unlink()
        shutil.copyfile(fixture, dest)
        placed[(source, upstream)] = dest
    for maker in fixture_makers():
        source_dir = _own_folder(root, shared_data, maker.parent.name)
        for upstream in _run_maker(maker, source_dir):
            placed[(maker.parent.name, upstream)] = source_dir / upstream
    return root, placed


@pytest.fixture(scope="session")
def mirror(mirror_and_fixtures) -> Path:
    return mirror_and_fixtures[0]


@pytest.fixture(scope="session")
def fixture_manifest(mirror_and_fixtures):
    """Register the fixtures' sha256 in the manifest for this session (they are not the upstream files)."""
    from lm_eval_jaster.sources import file_digests, manifest

    entries = manifest()
    saved = {}
    for key, path in mirror_and_fixtures[1].items():
        saved[key] = entries[key]
        entries[key] = dataclasses.replace(entries[key], sha256=file_digests(path)[0])
    yield
    entries.update(saved)


@pytest.fixture(scope="session")
def jaster_env(mirror, fixture_manifest, tmp_path_factory):
    """JASTER_DATA_DIR = the complete mirror, JASTER_CACHE_DIR = a session cache (built splits are shared)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JASTER_DATA_DIR", str(mirror))
        mp.setenv("JASTER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.delenv("JASTER_SPLIT", raising=False)
        yield mirror


@pytest.fixture(autouse=True, scope="session")
def _stub_comet():
    """COMET's model cannot be downloaded here: a stand-in scorer (0.5 per segment) lets MT tasks run end to end."""
    from lm_eval_jaster.metrics import neural

    neural.set_comet_scorer(lambda data: [0.5] * len(data))
    yield
    neural.set_comet_scorer(None)


@pytest.fixture
def empty_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("JASTER_CACHE_DIR", str(cache))
    return cache
