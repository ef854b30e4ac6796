"""Shared test setup: offline, a raw-data mirror (../shared/data plus hand-written fixtures), a private cache."""

from __future__ import annotations

import dataclasses
import os
import shutil
import zipfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = Path(__file__).parent / "fixtures"

# Raw files that ../shared/data lacks, replaced by fixtures: (source, upstream path) → fixture file.
FIXTURE_FILES = {
    ("jnli", "datasets/jnli-v1.1/train-v1.1.json"): FIXTURES / "jnli/datasets/jnli-v1.1/train-v1.1.json",
    ("jsquad", "datasets/jsquad-v1.1/train-v1.1.json"): FIXTURES / "jsquad/datasets/jsquad-v1.1/train-v1.1.json",
}


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "MANIFEST.tsv").is_file():
        pytest.fail(f"the raw-data mirror {SHARED_DATA} is missing; the tests read upstream files from there")
    return SHARED_DATA


def make_chabsa_zip(dest: Path) -> Path:
    """chABSA-dataset.zip laid out as upstream (a chABSA-dataset/ folder of report JSONs), deterministic bytes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w") as zf:
        for path in sorted((FIXTURES / "chabsa" / "chABSA-dataset").glob("*.json")):
            info = zipfile.ZipInfo(f"chABSA-dataset/{path.name}", date_time=(2018, 1, 1, 0, 0, 0))
            zf.writestr(info, path.read_bytes())
    return dest


@pytest.fixture(scope="session")
def mirror(shared_data, tmp_path_factory) -> Path:
    """A complete mirror: ../shared/data (symlinked) plus fixtures for the files it does not hold."""
    root = tmp_path_factory.mktemp("mirror")
    for source in sorted(p for p in shared_data.iterdir() if p.is_dir()):
        (root / source.name).symlink_to(source, target_is_directory=True)
    for (source, upstream), fixture in FIXTURE_FILES.items():
        target_dir = root / source
        target_dir.unlink()  # replace the symlink by a real folder of links + the fixture
        shutil.copytree(shared_data / source, target_dir, copy_function=os.symlink)
        (target_dir / upstream).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fixture, target_dir / upstream)
    make_chabsa_zip(root / "chabsa" / "chABSA-dataset.zip")
    return root


@pytest.fixture(scope="session")
def fixture_manifest(mirror):
    """Register the fixtures' sha256 in the manifest for this session (they are not the upstream files)."""
    from lm_eval_jaster.sources import file_digests, manifest

    entries = manifest()
    saved = {}
    fixtures = {**FIXTURE_FILES, ("chabsa", "chABSA-dataset.zip"): mirror / "chabsa" / "chABSA-dataset.zip"}
    for key, path in fixtures.items():
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


@pytest.fixture
def empty_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("JASTER_CACHE_DIR", str(cache))
    return cache
