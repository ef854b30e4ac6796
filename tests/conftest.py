"""Shared test setup: offline, a raw-data mirror (../shared/data plus hand-written fixtures), a private cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from fixture_mirror import REPO, SHARED_DATA, apply_pins, build_mirror, fixture_pins  # noqa: E402


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "MANIFEST.tsv").is_file():
        pytest.fail(f"the raw-data mirror {SHARED_DATA} is missing; the tests read upstream files from there")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mirror_and_fixtures(shared_data, tmp_path_factory) -> tuple[Path, dict[tuple[str, str], Path]]:
    """A complete mirror (tests/fixture_mirror.py): ../shared/data plus fixtures for the files it does not hold."""
    root = tmp_path_factory.mktemp("mirror")
    return root, build_mirror(shared_data, root)


@pytest.fixture(scope="session")
def mirror(mirror_and_fixtures) -> Path:
    return mirror_and_fixtures[0]


@pytest.fixture(scope="session")
def fixture_manifest(mirror_and_fixtures):
    """Register the fixtures' sha256 in the manifest for this session (they are not the upstream files)."""
    from lm_eval_jaster.sources import manifest

    saved = apply_pins(fixture_pins(mirror_and_fixtures[1]))
    yield
    manifest().update(saved)


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
