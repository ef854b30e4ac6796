"""Data layer: parity with llm-jp-eval's published dev files, split rules, cache, and every failure path."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import shutil
import socket
import threading
from pathlib import Path

import pytest

from lm_eval_jaster import cli
from lm_eval_jaster.data import build_splits, load_jaster, split_cache_path
from lm_eval_jaster.datasets.base import MalformedRecordError
from lm_eval_jaster.errors import SettingsError
from lm_eval_jaster.registry import all_datasets, get_dataset
from lm_eval_jaster.sources import DataNotFoundError, DownloadError, IntegrityError, manifest

# llm-jp/scripts llm-jp-eval-v1.4.1/resources/sha256sums.csv, copied independently of the modules.
PUBLISHED_DEV_SHA256 = {
    "jamp": "bee9d6124ccc20b02e2dc42b75c0548f9caf0a8c88af164ee726eebdb28c17cc",
    "janli": "9d6694bebbe78c5c02b4fd5da8af930c03cb65d7766042cfe5cad9031a9ce6ef",
    "jsem": "a5bb328dfbe008cdd2595cdaa2cacfb17086506ba1776ec01cbb8cc002d7f329",
    "jsick": "bd4291ab4b325654ec8e1b9f2f4d69f6508b7d071d4da41b7cafc9eeb297f33e",
    "jemhopqa": "7364e2e5381f1355f53109c73f8f506616b6690d686e96bba681585976f13399",
    "niilc": "ff0cf49012ad6416b0828cbcf16882cafc68c30483e4ef51863641d23fe1befc",
    "jcommonsenseqa": "ac30df014eee8d24d62a5e1fbd4ed1e3b5d76bffb836ffb4c9fa59e72a056591",
    "jsts": "e17f77bdd3ffc3cccf4b3a1af8a1463b8cae260ba8c607188b8e4b45f468806e",
    "mawps": "b9c26eb7e2daa3ed53b5f174651bec44ed74f45799e81bb12f448046d4e04052",
    # Not verifiable on ../shared/data (train file or zip not mirrored), kept for the module check below.
    "jnli": "d40257164b1bf2eaeae370c9879819ff5509964ea116ee4148dca062a9c02e0f",
    "jsquad": "0dcac3647a3768deeae53dc058474b21a3f4d9d37ffa3a3ec541505964afac8e",
    "chabsa": "a04db94fd91894ed48593d2824b70fed9a241fd7e81aea854a8d32af1389a592",
}
VERIFIABLE = ["jamp", "janli", "jsem", "jsick", "jemhopqa", "niilc", "jcommonsenseqa", "jsts", "mawps"]

SPLIT_SIZES = {  # train, dev, test as built from ../shared/data
    "jamp": (8955, 995, 348),
    "janli": (12312, 1368, 720),
    "jsem": (12667, 1583, 1584),
    "jsick": (4500, 500, 4927),
    "jemhopqa": (953, 106, 120),
    "niilc": (715, 80, 198),
    "jcommonsenseqa": (8045, 894, 1119),  # = JGLUE 8,939 train → 9:1, valid 1,119
    "jsts": (11205, 1246, 1457),  # = JGLUE 12,451 train → 9:1, valid 1,457
    "mawps": (16, 500, 500),
}


@pytest.mark.parametrize("name", VERIFIABLE)
def test_dev_export_matches_published_sha256(name, shared_data, empty_cache, tmp_path, capsys):
    status = cli.main(["export", "--split", "dev", "--output-dir", str(tmp_path / "out"), "--datasets", name,
                       "--data-dir", str(shared_data)])
    assert status == 0, capsys.readouterr().err
    exported = tmp_path / "out" / "dev" / f"{name}.json"
    assert hashlib.sha256(exported.read_bytes()).hexdigest() == PUBLISHED_DEV_SHA256[name]
    assert "matches llm-jp-eval v1.4.1's published sha256" in capsys.readouterr().out


@pytest.mark.parametrize("name", VERIFIABLE)
def test_split_sizes(name, shared_data, empty_cache):
    splits = build_splits(name, shared_data)
    assert tuple(len(splits[s]) for s in ("train", "dev", "test")) == SPLIT_SIZES[name]


def test_registry_carries_the_published_hashes():
    for name, digest in PUBLISHED_DEV_SHA256.items():
        assert get_dataset(name).published_dev_sha256 == digest


def test_seed_datasets_and_metadata():
    seed = {"jamp": "NLI", "janli": "NLI", "jnli": "NLI", "jsem": "NLI", "jsick": "NLI", "jemhopqa": "QA",
            "niilc": "QA", "jsquad": "RC", "jcommonsenseqa": "MC", "chabsa": "EL", "mawps": "MR", "jsts": "STS"}
    datasets = all_datasets()
    for name, category in seed.items():
        assert datasets[name].category == category
        assert datasets[name].task_name == f"jaster_{name}"
    assert datasets["jsts"].metrics == ("pearson", "spearman")
    assert datasets["chabsa"].metrics == ("set_f1",) and datasets["chabsa"].output_length == 191


def test_hand_checked_samples(shared_data, empty_cache):
    # First test rows of each upstream file, read by eye from the raw files.
    jamp = build_splits("jamp", shared_data)["test"][0]
    assert jamp.input.startswith("前提：") and "\n仮説：" in jamp.input and jamp.output in {"entailment", "contradiction", "neutral"}
    mawps = build_splits("mawps", shared_data)
    assert all(s.output.replace(".", "").isdigit() for s in mawps["train"])  # "答えは…です。" extracted
    jcqa = build_splits("jcommonsenseqa", shared_data)["test"][0]
    assert jcqa.input.count(",") >= 4 and "\n選択肢：0." in jcqa.input and jcqa.output in "01234"
    jsts = build_splits("jsts", shared_data)["test"]
    assert all(float(s.output) == float(s.output) and "." in s.output for s in jsts)  # str(float): "4.0"
    niilc = build_splits("niilc", shared_data)
    assert all(s.output != "-" for split in niilc.values() for s in split)


# --- loaders for files the mirror lacks: hand-written fixtures in the upstream formats -------------------------

def test_jnli_from_fixture(jaster_env):
    splits = build_splits("jnli", use_cache=False)
    assert (len(splits["train"]), len(splits["dev"])) == (10, 2)  # 12 fixture pairs, 9:1
    assert len(splits["test"]) == 2434  # JGLUE v1.1 valid, from ../shared/data
    every = splits["train"] + splits["dev"]
    assert {s.output for s in every} == {"entailment", "contradiction", "neutral"}
    assert any(s.input == "前提：白い猫がソファの上で眠っている。\n仮説：猫が眠っている。" for s in every)


def test_jsquad_from_fixture(jaster_env):
    splits = build_splits("jsquad", use_cache=False)
    assert (len(splits["train"]), len(splits["dev"]), len(splits["test"])) == (5, 1, 4442)
    every = {s.input: s.output for s in splits["train"] + splits["dev"]}
    # answers[0] of a question with two identical answers; the context keeps JGLUE's "title [SEP] paragraph".
    key = ("文章：富士山 [SEP] 富士山は静岡県と山梨県にまたがる活火山である。標高は3776メートルで、日本最高峰である。\n"
           "質問：富士山はどの県にまたがっているか。")
    assert every[key] == "静岡県と山梨県"


def test_chabsa_from_fixture_zip(jaster_env):
    splits = build_splits("chabsa", use_cache=False)
    every = splits["train"] + splits["dev"] + splits["test"]
    assert (len(splits["train"]), len(splits["dev"]), len(splits["test"])) == (7, 1, 1)  # 9 sentences with opinions, 8:1:1
    by_input = {s.input: s.output for s in every}
    assert by_input["文章：営業利益は減少し、経常利益は増加しました"] == "営業利益 negative\n経常利益 positive"
    assert "文章：為替の影響はありませんでした" not in by_input  # no opinions → skipped


def test_chabsa_bad_zip_is_a_clear_error(tmp_path, monkeypatch, empty_cache):
    (tmp_path / "chabsa").mkdir()
    bad = tmp_path / "chabsa" / "chABSA-dataset.zip"
    bad.write_bytes(b"<html>not a zip</html>")
    key = ("chabsa", "chABSA-dataset.zip")  # the upstream zip has no pinned hash; pin this one to reach the parser
    monkeypatch.setitem(manifest(), key, dataclasses.replace(manifest()[key], sha256=hashlib.sha256(bad.read_bytes()).hexdigest()))
    with pytest.raises(MalformedRecordError, match="chABSA-dataset.zip.*not a zip file"):
        build_splits("chabsa", tmp_path, use_cache=False)


# --- cache ----------------------------------------------------------------------------------------------------

def _unbuildable(name):
    def fail(files):
        raise AssertionError("the raw files were parsed again")
    return dataclasses.replace(get_dataset(name), build=fail)


def test_second_build_parses_nothing(shared_data, empty_cache):
    first = build_splits("jemhopqa", shared_data)
    assert split_cache_path("jemhopqa").is_file()
    assert build_splits(_unbuildable("jemhopqa"), shared_data) == first


def test_corrupted_split_cache_is_rebuilt(shared_data, empty_cache):
    first = build_splits("niilc", shared_data)
    split_cache_path("niilc").write_text('{"format": 1, "splits": {"tra', encoding="utf-8")
    assert build_splits("niilc", shared_data) == first


def test_load_jaster_hook(jaster_env, monkeypatch):
    dataset = load_jaster(jaster_dataset="jemhopqa", pretrained="ignored-model-arg", version=1.0)
    assert set(dataset) == {"train", "dev", "test", "eval"}
    assert dataset["eval"]["input"] == dataset["dev"]["input"]  # llm-jp-eval's default data_type
    assert set(dataset["train"].column_names) == {"input", "output", "instruction", "split", "jaster_dataset"}
    assert dataset["train"][0]["instruction"] == get_dataset("jemhopqa").instruction
    assert load_jaster(jaster_dataset="jemhopqa", jaster_split="test")["eval"]["input"] == dataset["test"]["input"]
    monkeypatch.setenv("JASTER_SPLIT", "test")
    assert load_jaster(jaster_dataset="jemhopqa")["eval"]["split"][0] == "test"
    with pytest.raises(SettingsError, match="jaster_split = 'validation' is not one of dev, test"):
        load_jaster(jaster_dataset="jemhopqa", jaster_split="validation")
    with pytest.raises(SettingsError, match="unknown --metadata key 'jaster_spilt'. Did you mean 'jaster_split'"):
        load_jaster(jaster_dataset="jemhopqa", jaster_spilt="test")


def test_split_cache_holding_the_wrong_shape_is_rebuilt(shared_data, empty_cache, caplog):
    first = build_splits("niilc", shared_data)
    for payload in ("[]", "null", '"text"', '{"format": 1, "sha256": "x", "splits": null}', "{}"):
        split_cache_path("niilc").write_text(payload, encoding="utf-8")
        assert build_splits("niilc", shared_data) == first
    assert "Ignoring a corrupted cached split file" in caplog.text


def test_split_cache_of_an_unpinned_source_is_keyed_by_its_files(tmp_path, empty_cache, jaster_env, monkeypatch):
    """chABSA's zip has no pinned checksum: a changed file gives another cache entry, never the stale splits."""
    import zipfile

    key = ("chabsa", "chABSA-dataset.zip")
    monkeypatch.setitem(manifest(), key, dataclasses.replace(manifest()[key], sha256="", git_blob_sha1=""))
    mirror = tmp_path / "mirror"
    shutil.copytree(jaster_env / "chabsa", mirror / "chabsa")
    first = build_splits("chabsa", mirror)
    first_path = split_cache_path("chabsa", mirror)
    assert first_path.name.startswith("chabsa-") and first_path.is_file()
    # Upstream changes the file: one document fewer.
    archive = mirror / "chabsa" / "chABSA-dataset.zip"
    with zipfile.ZipFile(archive) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    dropped = sorted(n for n in members if n.endswith(".json"))[0]
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in members.items():
            if name != dropped:
                zf.writestr(name, data)
    second = build_splits("chabsa", mirror)
    assert split_cache_path("chabsa", mirror) != first_path
    assert sum(map(len, second.values())) < sum(map(len, first.values()))


# --- bad input ------------------------------------------------------------------------------------------------

def _copy_source(shared_data: Path, dest_root: Path, source: str) -> Path:
    shutil.copytree(shared_data / source, dest_root / source)
    return dest_root


def test_mirror_file_with_wrong_sha256(shared_data, tmp_path, empty_cache):
    mirror = _copy_source(shared_data, tmp_path / "mirror", "jamp")
    corrupted = mirror / "jamp" / "dataset" / "test_2.tsv"
    corrupted.write_bytes(corrupted.read_bytes()[:-10])
    entry = manifest()[("jamp", "dataset/test_2.tsv")]
    with pytest.raises(IntegrityError) as error:
        build_splits("jamp", mirror)
    message = str(error.value)
    assert str(corrupted) in message and entry.sha256 in message and entry.url in message
    assert hashlib.sha256(corrupted.read_bytes()).hexdigest() in message
    assert not split_cache_path("jamp").exists()


def test_missing_file_in_mirror(shared_data, tmp_path, empty_cache):
    mirror = _copy_source(shared_data, tmp_path / "mirror", "jamp")
    (mirror / "jamp" / "dataset" / "test_2.tsv").unlink()
    with pytest.raises(DataNotFoundError) as error:
        build_splits("jamp", mirror)
    message = str(error.value)
    assert "test_2.tsv" in message and manifest()[("jamp", "dataset/test_2.tsv")].url in message
    assert "JASTER_DATA_DIR" in message


def test_data_dir_that_does_not_exist(tmp_path, empty_cache):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        build_splits("jamp", tmp_path / "nowhere")


def test_malformed_record_names_file_and_line(shared_data, tmp_path, monkeypatch, empty_cache):
    mirror = _copy_source(shared_data, tmp_path / "mirror", "jsick")
    path = mirror / "jsick" / "jsick" / "test.tsv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "broken\trow\n"
    path.write_text("".join(lines), encoding="utf-8")
    key = ("jsick", "jsick/test.tsv")
    monkeypatch.setitem(manifest(), key, dataclasses.replace(manifest()[key], sha256=hashlib.sha256(path.read_bytes()).hexdigest()))
    with pytest.raises(MalformedRecordError, match=r"test\.tsv: line 3: expected at least 11"):
        build_splits("jsick", mirror)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_mirror(shared_data):
    """Serve ../shared/data on 127.0.0.1 and point jamp's manifest URLs at it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(shared_data)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _point_jamp_at(base_url: str, monkeypatch, rename: dict[str, str] | None = None):
    for path in ("dataset/train_all.tsv", "dataset/test_2.tsv"):
        served = (rename or {}).get(path, f"jamp/{path}")
        monkeypatch.setitem(manifest(), ("jamp", path),
                            dataclasses.replace(manifest()[("jamp", path)], url=f"{base_url}/{served}"))


def test_download_verify_and_cache(http_mirror, monkeypatch, empty_cache):
    monkeypatch.delenv("JASTER_DATA_DIR", raising=False)
    _point_jamp_at(http_mirror, monkeypatch)
    splits = build_splits("jamp", use_cache=False)
    assert len(splits["dev"]) == 995
    raw = empty_cache / "raw" / "jamp" / "dataset"
    assert sorted(p.name for p in raw.iterdir()) == ["test_2.tsv", "train_all.tsv"]  # no .part left
    _point_jamp_at("http://127.0.0.1:9", monkeypatch)  # cached raw files are reused, nothing is fetched
    assert build_splits("jamp", use_cache=False) == splits


def test_download_of_wrong_bytes_caches_nothing(http_mirror, monkeypatch, empty_cache):
    monkeypatch.delenv("JASTER_DATA_DIR", raising=False)
    _point_jamp_at(http_mirror, monkeypatch, rename={"dataset/test_2.tsv": "janli/janli.tsv"})
    with pytest.raises(IntegrityError, match=r"Downloaded http://127\.0\.0\.1:\d+/janli/janli\.tsv: .*sha256 mismatch"):
        build_splits("jamp")
    leftovers = [p.name for p in (empty_cache / "raw" / "jamp" / "dataset").iterdir()]
    assert leftovers == ["train_all.tsv"]  # the verified file only; no partial or wrong file
    assert not split_cache_path("jamp").exists()


def test_download_404_and_refused(http_mirror, monkeypatch, empty_cache):
    monkeypatch.delenv("JASTER_DATA_DIR", raising=False)
    _point_jamp_at(http_mirror, monkeypatch, rename={"dataset/train_all.tsv": "jamp/nope.tsv"})
    with pytest.raises(DownloadError, match=r"Could not download http://127\.0\.0\.1:\d+/jamp/nope\.tsv.*404.*JASTER_DATA_DIR"):
        build_splits("jamp")
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    _point_jamp_at(f"http://127.0.0.1:{closed_port}", monkeypatch)
    with pytest.raises(DownloadError, match="Connection refused|refused"):
        build_splits("jamp")
    assert not any((empty_cache / "raw").rglob("*.part"))


class _FaultyHandler(http.server.BaseHTTPRequestHandler):
    """/500/... answers HTTP 500; /short/<path> promises the whole file but closes after half of it."""

    root: Path

    def do_GET(self):
        kind, _, rest = self.path.lstrip("/").partition("/")
        if kind == "500":
            self.send_error(500, "Internal Server Error")
            return
        body = (self.root / rest).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def faulty_server(shared_data):
    handler = type("Handler", (_FaultyHandler,), {"root": shared_data})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_http_500(faulty_server, monkeypatch, empty_cache):
    monkeypatch.delenv("JASTER_DATA_DIR", raising=False)
    _point_jamp_at(f"{faulty_server}/500", monkeypatch)
    with pytest.raises(DownloadError, match=r"Could not download http://127\.0\.0\.1:\d+/500/jamp/.*500"):
        build_splits("jamp")
    assert not any((empty_cache / "raw").rglob("*.tsv*"))


def test_download_cut_short(faulty_server, monkeypatch, empty_cache):
    monkeypatch.delenv("JASTER_DATA_DIR", raising=False)
    _point_jamp_at(f"{faulty_server}/short", monkeypatch)
    with pytest.raises(DownloadError, match=r"Could not download http://127\.0\.0\.1:\d+/short/jamp/.*truncated download: connection closed after \d+ of \d+ bytes"):
        build_splits("jamp")
    assert not any((empty_cache / "raw").rglob("*.tsv*"))  # no partial file kept
    assert not split_cache_path("jamp").exists()
