"""Cache integrity and concurrency: a damaged cache or racing processes give a correct result or a clear error."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from lm_eval_jaster.data import build_splits, split_cache_path
from lm_eval_jaster.sources import CacheNotWritableError

from conftest import REPO


def test_tampered_split_cache_is_detected_and_rebuilt(shared_data, empty_cache):
    original = build_splits("jemhopqa", shared_data)
    path = split_cache_path("jemhopqa")
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload["splits"]["dev"][0][1] = "a wrong gold answer"  # still valid JSON, wrong content
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    assert build_splits("jemhopqa", shared_data) == original
    assert json.loads(path.read_text(encoding="utf-8"))["splits"]["dev"][0][1] == original["dev"][0].output


def test_split_cache_of_another_format_version_is_not_read(shared_data, empty_cache):
    original = build_splits("niilc", shared_data)
    stale = split_cache_path("niilc").parent.parent / "v0" / "niilc.json"
    stale.parent.mkdir(parents=True)
    stale.write_text('{"format": 0, "splits": {}}', encoding="utf-8")
    assert build_splits("niilc", shared_data) == original


def test_unwritable_cache_with_a_mirror_still_gives_the_data(shared_data, tmp_path, monkeypatch, caplog):
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("JASTER_CACHE_DIR", str(not_a_folder))
    splits = build_splits("jemhopqa", shared_data)
    assert len(splits["dev"]) == 106
    assert "not writable" in caplog.text and "without caching" in caplog.text


def test_unwritable_cache_without_a_mirror_is_a_clear_error(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("JASTER_CACHE_DIR", str(not_a_folder))
    monkeypatch.delenv("JASTER_DATA_DIR", raising=False)
    with pytest.raises(CacheNotWritableError, match=r"cache-is-a-file is not writable.*JASTER_CACHE_DIR.*JASTER_DATA_DIR"):
        build_splits("jemhopqa")


CHILD = str(Path(__file__).resolve().parent / "stubs" / "build_splits_child.py")



def _run_parallel(n: int, dataset: str, data_dir: str, env: dict) -> list[str]:
    procs = [subprocess.Popen([sys.executable, CHILD, dataset, data_dir], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=REPO) for _ in range(n)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        outputs.append(out)
    return outputs


def test_parallel_processes_build_once_and_agree(shared_data, tmp_path):
    import os

    env = {**os.environ, "JASTER_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("JASTER_DATA_DIR", None)
    outputs = _run_parallel(4, "jsem", str(shared_data), env)
    builds = sum(out.count("BUILT") for out in outputs)
    digests = {line.split()[1] for out in outputs for line in out.splitlines() if line.startswith("DIGEST")}
    assert builds == 1, outputs
    assert len(digests) == 1


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    counts: Counter = Counter()

    def do_GET(self):
        type(self).counts[self.path] += 1
        super().do_GET()

    def log_message(self, *args):
        pass


def test_parallel_processes_download_once(shared_data, tmp_path):
    """Four processes with an empty cache and no mirror: each raw file is fetched once; all get the same data."""
    import os

    _CountingHandler.counts = Counter()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_CountingHandler, directory=str(shared_data)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        manifest = tmp_path / "manifest.tsv"  # the package manifest with jamp's URLs pointed at the local server
        rows = (Path(REPO) / "lm_eval_jaster" / "manifest.tsv").read_text(encoding="utf-8").splitlines()
        rewritten = [r.replace("https://raw.githubusercontent.com/tomo-ut/temporalNLI_dataset/main", f"{base}/jamp")
                     if r.startswith("jamp\t") else r for r in rows]
        manifest.write_text("\n".join(rewritten) + "\n", encoding="utf-8")
        env = {**os.environ, "JASTER_CACHE_DIR": str(tmp_path / "cache")}
        env.pop("JASTER_DATA_DIR", None)
        procs = [subprocess.Popen([sys.executable, CHILD, "jamp", "", "--manifest", str(manifest)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env, cwd=REPO) for _ in range(4)]
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-2000:]
            outputs.append(out)
    finally:
        server.shutdown()
        server.server_close()
    assert dict(_CountingHandler.counts) == {"/jamp/dataset/train_all.tsv": 1, "/jamp/dataset/test_2.tsv": 1}
    assert len({line for out in outputs for line in out.splitlines() if line.startswith("DIGEST")}) == 1
    assert sum(out.count("BUILT") for out in outputs) == 1


def test_datasets_of_one_source_are_cached_together(shared_data, empty_cache):
    """Building one wiki_* task caches all five: a later process needing another parses no .knp file."""
    from lm_eval_jaster.registry import all_datasets

    build_splits("wiki_reading", shared_data)
    siblings = [name for name, info in all_datasets().items() if info.source == "wikipedia_annotated_corpus"]
    assert len(siblings) == 5
    assert all(split_cache_path(name).is_file() for name in siblings)


def test_concurrent_exports_into_one_folder(shared_data, tmp_path):
    """Four processes export the same files into one folder at once: all succeed, the files are llm-jp-eval's."""
    import hashlib
    import os

    from lm_eval_jaster.registry import get_dataset

    env = {**os.environ, "JASTER_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("JASTER_DATA_DIR", None)
    out = tmp_path / "export"
    procs = [subprocess.Popen([sys.executable, "-m", "lm_eval_jaster", "export", "--split", "dev", "--output-dir",
                               str(out), "--datasets", "jamp,jsem,niilc", "--data-dir", str(shared_data)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
             for _ in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    for name in ("jamp", "jsem", "niilc"):
        path = out / "dev" / f"{name}.json"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == get_dataset(name).published_dev_sha256
    assert sorted(p.name for p in (out / "dev").iterdir()) == ["jamp.json", "jsem.json", "niilc.json"]


class _Zeros:
    """A readable file of n zero bytes, produced on the fly."""

    def __init__(self, n: int) -> None:
        self.left = n

    def read(self, size: int = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        self.left -= size
        return bytes(size)


def test_archive_members_are_read_with_a_size_cap(tmp_path, monkeypatch, empty_cache):
    """A small zip or tar.gz whose member inflates to more than the cap is an error naming the member, not an
    exhausted machine."""
    import dataclasses
    import resource
    import tarfile
    import zipfile

    from lm_eval_jaster.datasets import base
    from lm_eval_jaster.datasets.base import MalformedRecordError
    from lm_eval_jaster.sources import manifest

    huge = base.MAX_MEMBER_BYTES + (1 << 20)
    chabsa = tmp_path / "mirror" / "chabsa" / "chABSA-dataset.zip"
    chabsa.parent.mkdir(parents=True)
    with zipfile.ZipFile(chabsa, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("chABSA-dataset/e00001_ann.json", "w", force_zip64=True) as member:
            for _ in range(huge >> 20):
                member.write(bytes(1 << 20))
    assert chabsa.stat().st_size < 2 * 1024 ** 2  # a small file ...
    corpus = tmp_path / "mirror" / "wikicorpus" / "wiki_corpus_2.01.tar.gz"
    corpus.parent.mkdir(parents=True)
    with tarfile.open(corpus, "w:gz") as tf:
        info = tarfile.TarInfo("wiki_corpus_2.01/BDS/BDS00001.xml")
        info.size = huge
        tf.addfile(info, _Zeros(huge))
    for key in (("chabsa", "chABSA-dataset.zip"), ("wikicorpus", "wiki_corpus_2.01.tar.gz")):
        monkeypatch.setitem(manifest(), key, dataclasses.replace(manifest()[key], sha256="", git_blob_sha1=""))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(MalformedRecordError, match=r"chABSA-dataset\.zip!chABSA-dataset/e00001_ann\.json: archive: "
                                                   r"member of \d+ bytes is larger than"):
        build_splits("chabsa", tmp_path / "mirror", use_cache=False)
    with pytest.raises(MalformedRecordError, match=r"wiki_corpus_2\.01\.tar\.gz!wiki_corpus_2\.01/BDS/BDS00001\.xml: "
                                                   r"archive: member of \d+ bytes is larger than"):
        build_splits("wikicorpus-e-to-j", tmp_path / "mirror", use_cache=False)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 100, f"peak memory grew by {grown_mib:.0f} MiB"  # ... never inflated into memory


def test_files_written_atomically_get_the_usual_mode(tmp_path):
    """A cache, mirror or scores file shared between users must be readable by them: mode 0666 & ~umask, as open()."""
    import os
    import stat

    from lm_eval_jaster.files import atomic_output, atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
        with atomic_output(tmp_path / "b.bin") as out:
            out.write(b"x")
        os.umask(0o077)
        atomic_write_text(tmp_path / "c.json", "{}")
    finally:
        os.umask(old)
    modes = {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in ("a.json", "b.bin", "c.json")}
    assert modes == {"a.json": 0o644, "b.bin": 0o644, "c.json": 0o600}
