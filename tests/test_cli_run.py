"""The headline run as users run it: preflight before the model, run-what-is-there, one-line errors, a discoverable
CLI, the data commands (on ../shared/data, which lacks 15 raw files, and over a local HTTP server)."""

from __future__ import annotations

import dataclasses
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lm_eval_jaster import cli, settings
from lm_eval_jaster.errors import SettingsError
from lm_eval_jaster.preflight import check_data, requested_datasets, skip_tasks
from lm_eval_jaster.registry import get_dataset
from lm_eval_jaster.sources import manifest

from conftest import REPO

# Files of jaster_all that ../shared/data does not hold (their sources' names)
MIRROR_LACKS = {"jnli", "jsquad", "chabsa", "aio", "kuci", "mgsm", "alt", "wikicorpus", "mmlu_en"}


def _env(shared_data: Path, cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JASTER_")}
    env.update({"JASTER_DATA_DIR": str(shared_data), "JASTER_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1",
                "HF_DATASETS_OFFLINE": "1", **extra})
    return env


def _cli(args: list[str], env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lm_eval_jaster", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=timeout)


# --- preflight: before the model, every missing file in one message --------------------------------------------

def test_jaster_all_with_missing_files_stops_before_the_model(shared_data, tmp_path):
    run = _cli(["--model", "hf", "--model_args", "pretrained=/nonexistent/dir", "--tasks", "jaster_all"],
               _env(shared_data, tmp_path / "cache"))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "Traceback" not in output
    assert "Initializing hf model" not in output and "/nonexistent/dir" not in output  # the model was never built
    message = run.stderr
    assert message.startswith("lm-eval-jaster: error: 15 raw files needed by jaster_all are not available")
    for file in ("datasets/jnli-v1.1/train-v1.1.json", "datasets/jsquad-v1.1/train-v1.1.json", "chABSA-dataset.zip"):
        assert file in message
        entry = next(e for e in manifest().values() if e.upstream_path == file)
        assert entry.url in message and str(shared_data / entry.source / file) in message
    assert "lm-eval-jaster data download --datasets jnli," in message and '"jaster_missing": "skip"' in message


def test_jaster_all_runs_what_is_there_on_request(shared_data, tmp_path):
    out = tmp_path / "out"
    run = _cli(["--model", "dummy", "--model_args", "pretrained=dummy", "--tasks", "jaster_all", "--limit", "2",
                "--metadata", '{"jaster_missing": "skip"}', "--output_path", str(out)],
               _env(shared_data, tmp_path / "cache"), timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    (scores_file,) = out.glob("*/jaster_scores_*.json")
    scores = json.loads(scores_file.read_text(encoding="utf-8"))
    skipped = set(scores["skipped"])
    assert {"jnli", "jsquad", "chabsa", "aio", "kuci", "mgsm", "alt-e-to-j", "mmlu_en"} <= skipped
    assert not skipped & set(scores["datasets"]) and {"jamp", "jsem", "wiki_ner", "jmmlu"} <= set(scores["datasets"])
    assert scores["avg_partial"] is True and "RC" in scores["missing_categories"]  # jsquad was RC's only dataset
    assert scores["limit"] == 2 and isinstance(scores["limit"], int)
    assert scores["datasets"]["jsts"]["in_avg"] is False and "STS" not in scores["avg_categories"]
    assert "Skipped for lack of data (jaster_missing: skip): jnli" in run.stdout
    assert "| **AVG** (partial) |" in run.stdout and "Traceback" not in run.stderr
    # Quiet logs: no lm-eval "Custom kwargs" warning for Jaster tasks; each of our warnings once.
    assert "Custom kwargs" not in run.stderr
    warnings = [line.split(" WARNING ", 1)[1] for line in run.stderr.splitlines() if " WARNING  [jaster:" in line]
    assert warnings and len(warnings) == len(set(warnings)), warnings


def test_environment_variable_skip_and_nothing_left(shared_data, tmp_path):
    run = _cli(["--model", "dummy", "--tasks", "jaster_rc", "--limit", "1"],
               _env(shared_data, tmp_path / "cache", JASTER_MISSING="skip"))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "datasets/jsquad-v1.1/train-v1.1.json" in run.stderr  # nothing of jaster_rc is here: still an error


# --- one-line errors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, env, expected", [
    (["--metadata", '{"jaster_spilt": "test"}'], {},
     "lm-eval-jaster: error: unknown --metadata key 'jaster_spilt'. Did you mean 'jaster_split'?"),
    ([], {"JASTER_SPLIT": "validation"},
     "lm-eval-jaster: error: JASTER_SPLIT = 'validation' is not one of dev, test."),
    ([], {"JASTER_SPILT": "test"}, "lm-eval-jaster: error: unknown environment variable JASTER_SPILT. Did you mean "
                                   "'JASTER_SPLIT'?"),
    (["--metadata", '{"jaster_comet": "maybe"}'], {},
     "lm-eval-jaster: error: jaster_comet = 'maybe' is not true or false or auto."),
])
def test_user_mistakes_are_one_line_errors(shared_data, tmp_path, args, env, expected):
    run = _cli(["--model", "dummy", "--tasks", "jaster_jamp", "--limit", "1", *args],
               _env(shared_data, tmp_path / "cache", **env))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert lines[-2] == expected and lines[-1].startswith("hint: ")
    assert "Traceback" not in run.stderr and "Initializing dummy model" not in run.stderr


def test_debug_verbosity_shows_the_traceback(shared_data, tmp_path):
    run = _cli(["--model", "dummy", "--tasks", "jaster_jamp", "--metadata", '{"jaster_spilt": "test"}',
                "--verbosity", "DEBUG"], _env(shared_data, tmp_path / "cache"))
    assert run.returncode == 2 and "Traceback" in run.stderr and "SettingsError" in run.stderr


def test_misspelt_task_name_is_one_line(shared_data, tmp_path, capsys):
    assert cli.main(["--model", "dummy", "--tasks", "jaster_jampp"]) == 2
    err = capsys.readouterr().err
    assert "lm-eval-jaster: error: Tasks not found: jaster_jampp." in err and "jaster_jampp → jaster_jamp?" in err


# --- a discoverable CLI ------------------------------------------------------------------------------------------

def test_help_lists_the_jaster_commands(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "lm-eval run" in out  # lm-eval's own help comes first
    for command in ("data", "tasks", "export", "scores", "report", "tasks-dir"):
        assert f"\n  {command} " in out


def test_data_status_and_tasks_on_the_offline_mirror(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JASTER_DATA_DIR", str(shared_data))
    monkeypatch.setenv("JASTER_CACHE_DIR", str(tmp_path / "cache"))
    assert cli.main(["data", "status", "-v"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert "verified" in rows["jamp"] and "CC BY-SA 4.0" in rows["jamp"] and str(shared_data / "jamp") in rows["jamp"]
    assert "missing: 1 of 2 files" in rows["jnli"]
    assert "present (no pinned checksum)" not in rows["jamp"]
    assert cli.main(["tasks"]) == 0
    listing = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert "NLI" in listing["jaster_jamp"] and "exact_match" in listing["jaster_jamp"]
    assert "here" in listing["jaster_jamp"] and "missing (1 of 2 files)" in listing["jaster_jnli"]
    assert "STS (not in AVG)" in listing["jaster_jsts"] and "CC BY-NC-SA 4.0 (NC)" in listing["jaster_xlsum_ja"]
    assert "jaster_nli, jaster_qa" in listing["jaster_all"]


def test_validate_checks_the_data(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JASTER_DATA_DIR", str(shared_data))
    monkeypatch.setenv("JASTER_CACHE_DIR", str(tmp_path / "cache"))
    assert cli.main(["validate", "--tasks", "jaster_nli"]) == 2
    err = capsys.readouterr().err
    assert "1 raw file needed by jaster_nli is not available" in err and "train-v1.1.json" in err
    assert cli.main(["validate", "--tasks", "jaster_jamp,jaster_jsem"]) == 0
    assert "the raw files of 2 dataset(s) are here (jamp, jsem)" in capsys.readouterr().out


# --- data download -----------------------------------------------------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served_jamp_and_janli(shared_data, monkeypatch):
    """../shared/data on a local HTTP server, with jamp's and janli's manifest URLs pointed at it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(shared_data)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    for key, entry in list(manifest().items()):
        if key[0] in ("jamp", "janli"):
            monkeypatch.setitem(manifest(), key, dataclasses.replace(entry, url=f"{base}/{key[0]}/{key[1]}"))
    yield base
    server.shutdown()
    server.server_close()


def test_data_download_into_a_mirror_folder(served_jamp_and_janli, shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("JASTER_DATA_DIR", raising=False)
    monkeypatch.setenv("JASTER_CACHE_DIR", str(tmp_path / "cache"))
    target = tmp_path / "mirror"
    assert cli.main(["data", "download", "--datasets", "jaster_jamp,janli", "--to", str(target)]) == 0
    captured = capsys.readouterr()
    assert "3 downloaded, 0 already there, 0 failed" in captured.out
    assert "[1/3] jamp/dataset/train_all.tsv ←" in captured.err and "MB" in captured.err  # progress
    for source, path in (("jamp", "dataset/train_all.tsv"), ("jamp", "dataset/test_2.tsv"), ("janli", "janli.tsv")):
        assert (target / source / path).read_bytes() == (shared_data / source / path).read_bytes()
    assert not [p for p in target.rglob("*") if p.name.endswith(".part")]
    # The folder works as JASTER_DATA_DIR; a second download finds everything there.
    assert check_data(requested_datasets(["jaster_jamp", "jaster_janli"]), target, download=False).missing == {}
    assert cli.main(["data", "download", "--datasets", "jamp,janli", "--to", str(target)]) == 0
    assert "0 downloaded, 3 already there" in capsys.readouterr().out


def test_data_download_failures_are_listed(served_jamp_and_janli, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("JASTER_DATA_DIR", raising=False)
    monkeypatch.setenv("JASTER_CACHE_DIR", str(tmp_path / "cache"))
    key = ("janli", "janli.tsv")
    monkeypatch.setitem(manifest(), key, dataclasses.replace(manifest()[key], url=served_jamp_and_janli + "/nope"))
    assert cli.main(["data", "download", "--datasets", "jamp,janli"]) == 2  # into the cache
    captured = capsys.readouterr()
    assert "2 downloaded, 0 already there, 1 failed" in captured.out
    assert "error: 1 file(s) could not be downloaded: janli/janli.tsv" in captured.err
    assert (tmp_path / "cache" / "raw" / "jamp" / "dataset" / "test_2.tsv").is_file()


def test_data_download_of_an_unknown_name(capsys):
    assert cli.main(["data", "download", "--datasets", "jnlli"]) == 2
    assert "unknown dataset, task or group 'jnlli'. Did you mean 'jnli'?" in capsys.readouterr().err


# --- preflight and settings units --------------------------------------------------------------------------------

def test_skipping_leaves_out_empty_groups():
    skipped = [get_dataset(n) for n in ("jsquad", "jnli")]
    names = skip_tasks(skipped)
    assert {"jaster_jsquad", "jaster_jnli", "jaster_rc"} <= names  # RC has no other dataset
    assert "jaster_nli" not in names and "jaster_all" not in names


def test_requested_datasets_expand_groups():
    names = [i.name for i in requested_datasets(["jaster_nli", "jaster_jsts", "arc_easy", {"task": "inline"}])]
    assert names == ["jamp", "janli", "jnli", "jsem", "jsick", "jsts"]
    everything = {i.name for i in requested_datasets(["jaster_all_with_nc"])}
    assert "xlsum_ja" in everything and "mbpp" not in everything


def test_settings_precedence_and_types(monkeypatch):
    monkeypatch.setenv("JASTER_SPLIT", "test")
    monkeypatch.setenv("JASTER_COMET_BATCH_SIZE", "16")
    resolved = settings.resolve({"jaster_split": "dev", "pretrained": "x"})  # model_args keys are not ours
    assert resolved.split == "dev" and resolved.source("split") == "jaster_split"
    assert resolved.comet_batch_size == 16 and resolved.source("comet_batch_size") == "JASTER_COMET_BATCH_SIZE"
    assert resolved.chat_format == "single_turn" and resolved.source("chat_format") == "default"
    with pytest.raises(SettingsError, match="jaster_comet_batch_size = 'many' is not an integer"):
        settings.resolve({"jaster_comet_batch_size": "many"})
    with pytest.raises(SettingsError, match="unknown --metadata key 'jaster_cache_dir'"):
        settings.resolve({"jaster_cache_dir": "/x"})  # environment only
    table = settings.markdown_table()
    for setting in settings.SETTINGS.values():
        assert (f"`{setting.key}`" if setting.key else f"`{setting.env_name}`") in table


def test_validate_without_a_mirror_counts_files_to_download(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("JASTER_DATA_DIR", raising=False)
    monkeypatch.setenv("JASTER_CACHE_DIR", str(tmp_path / "empty-cache"))
    assert cli.main(["validate", "--tasks", "jaster_jamp"]) == 0  # nothing here yet: downloaded on first use
    assert "2 file(s) will be downloaded on first use" in capsys.readouterr().out
