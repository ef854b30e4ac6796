"""End to end: lm-eval-jaster (= lm_eval + our tasks) on jaster_all with --model dummy and a tiny HF model."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lm_eval_jaster
from lm_eval_jaster import TASKS_DIR, cli
from lm_eval_jaster.data import build_splits
from lm_eval_jaster.registry import CATEGORIES, all_datasets
from lm_eval_jaster.wellformed import is_well_formed
from reference import llm_jp_eval_prompt
from tiny_model import build_tiny_model

CATEGORY_GROUPS = {CATEGORIES[i.category].group_name for i in all_datasets().values()
                   if not i.unsafe_code and (i.in_avg or not CATEGORIES[i.category].in_avg)}


def _strict_json(line: str):
    def reject(constant):
        raise ValueError(f"non-JSON constant {constant} in a samples file")
    return json.loads(line, parse_constant=reject)


def _run(args: list[str], capsys) -> str:
    assert cli.main(args) == 0
    return capsys.readouterr().out


def _floats(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _floats(v)
    elif isinstance(value, list):
        for v in value:
            yield from _floats(v)


def _load_run(output_path: Path) -> tuple[dict, dict, dict[str, list[dict]]]:
    results_files = sorted(output_path.glob("*/results_*.json"))
    assert len(results_files) == 1, results_files
    results = json.loads(results_files[0].read_text(encoding="utf-8"))
    scores_file = results_files[0].with_name(results_files[0].name.replace("results_", "jaster_scores_"))
    scores = json.loads(scores_file.read_text(encoding="utf-8"))
    samples = {}
    for path in results_files[0].parent.glob("samples_*.jsonl"):
        task = path.name[len("samples_"):].rsplit("_", 1)[0]
        samples[task] = [_strict_json(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return results, scores, samples


def _in_run() -> dict:
    """jaster_all_with_nc: every dataset but the code-execution ones (jaster_all_with_code)."""
    return {name: info for name, info in all_datasets().items() if not info.unsafe_code}


def _check_results_and_table(results: dict, scores: dict, num_fewshot: int) -> None:
    datasets = _in_run()
    task_results = results["results"]
    for info in datasets.values():
        row = task_results[info.task_name]
        for metric in (*info.metrics, "score"):
            if metric.startswith("bert_score") and f"{metric},llm-jp-eval" not in row:
                continue  # opt-in metric (jaster_bert_score)
            value = row[f"{metric},llm-jp-eval"]
            low = -1.0 if metric in ("pearson", "spearman") or info.key_metric == "pearson" else 0.0
            high = 100.0 if metric.startswith("bleu") else 1.0  # llm-jp-eval's BLEU is on sacrebleu's 0-100 scale
            assert low <= value <= high, (info.task_name, metric, value)
        assert row["score,llm-jp-eval"] == row[f"{info.key_metric},llm-jp-eval"]
        assert row["score,lenient"] == row[f"{info.key_metric},lenient"]
        assert 0.0 <= row["format_adherence,lenient"] <= 1.0
        assert results["n-shot"][info.task_name] == num_fewshot
        assert results["configs"][info.task_name]["generation_kwargs"]["max_gen_toks"] == info.output_length
    for group in CATEGORY_GROUPS:
        members = [i for i in datasets.values() if CATEGORIES[i.category].group_name == group
                   and (i.in_avg or not CATEGORIES[i.category].in_avg)]
        expected = sum(task_results[i.task_name]["score,llm-jp-eval"] for i in members) / len(members)
        assert task_results[group]["score,llm-jp-eval"] == pytest.approx(expected)
    # The llm-jp-eval table, recomputed here from the results: category means, AVG without STS.
    assert set(scores["datasets"]) == set(datasets)
    category_means = {}
    for name, category in CATEGORIES.items():
        values = [task_results[i.task_name][f"{i.key_metric},llm-jp-eval"] for i in datasets.values()
                  if i.category == name and (i.in_avg or not category.in_avg)]
        if not values:
            continue
        category_means[name] = sum(values) / len(values)
        assert scores["categories"][name] == pytest.approx(category_means[name])
    averaged = [n for n, c in CATEGORIES.items() if c.in_avg and n in category_means]
    assert scores["avg_categories"] == averaged and "STS" not in averaged
    assert scores["AVG"] == pytest.approx(sum(category_means[n] for n in averaged) / len(averaged))
    assert scores["missing_categories"] == ["CG"]  # code execution needs jaster_all_with_code
    assert scores["split"] == "dev"


def _check_samples(samples: dict[str, list[dict]], limit: int, num_fewshot: int) -> None:
    for info in _in_run().values():
        all_rows = samples[info.task_name]
        rows = [r for r in all_rows if r["filter"] == "llm-jp-eval"]
        lenient = {r["doc_id"]: r for r in all_rows if r["filter"] == "lenient"}
        splits = build_splits(info)
        assert len(rows) == len(lenient) == min(limit, len(splits["dev"]))  # one line per doc and pipeline
        assert len(all_rows) == 2 * len(rows)
        shots = [(s.input, s.output) for s in splits["train"][:num_fewshot]]
        for row in rows:
            assert row["filter"] == "llm-jp-eval"
            assert row["doc"]["input"] == splits["dev"][row["doc_id"]].input
            prompt = row["arguments"]["gen_args_0"]["arg_0"]
            assert prompt == llm_jp_eval_prompt(info.instruction, shots, row["doc"]["input"])
            assert row["arguments"]["gen_args_0"]["arg_1"]["until"] == ["\n\n"]
            assert row["target"] == row["doc"]["output"]
            twin = lenient[row["doc_id"]]
            assert twin["resps"] == row["resps"] and twin["arguments"] == row["arguments"]
            assert row["doc"]["jaster_dataset"] == info.name
            # format_adherence: the strict answer is well-formed for the dataset
            well_formed = is_well_formed(info, row["filtered_resps"][0], row["doc"])
            assert twin["format_adherence"] == (1.0 if well_formed else 0.0)


def test_jaster_all_with_dummy_model(jaster_env, tmp_path, capsys):
    out = _run(["--model", "dummy", "--model_args", "pretrained=dummy", "--tasks", "jaster_all_with_nc", "--limit", "3",
                "--output_path", str(tmp_path / "out"), "--log_samples"], capsys)
    results, scores, samples = _load_run(tmp_path / "out")
    _check_results_and_table(results, scores, num_fewshot=4)
    _check_samples(samples, limit=3, num_fewshot=4)
    assert all(row["resps"] == [["lol"]] and row["filtered_resps"] == ["lol"] for rows in samples.values() for row in rows)
    # "lol" is not an answer in the format of a label, choice, number or line-set dataset; free text is.
    formats = {name: d["format_adherence"] for name, d in scores["datasets"].items()}
    assert formats["jamp"] == formats["mawps"] == formats["jcommonsenseqa"] == formats["wiki_ner"] == 0.0
    assert formats["jemhopqa"] == formats["jsquad"] == 1.0
    assert all(d["lenient_recovered"] in (0.0, None) for d in scores["datasets"].values())
    assert f"| **AVG** (partial) | {', '.join(scores['avg_categories'])} |" in out  # CG needs jaster_all_with_code
    # The settings are recorded: in the JSON and in the table's header line.
    assert scores["limit"] == 3 and isinstance(scores["limit"], int) and scores["split"] == "dev"
    assert set(scores["num_fewshot"].values()) == {4} and scores["chat_template"] is False
    assert scores["system_instruction"] is None and scores["versions"]["lm_eval"] == "0.4.13"
    assert scores["versions"]["lm_eval_jaster"] == lm_eval_jaster.__version__
    assert scores["settings"]["jaster_versions"]["metrics"] == 2
    assert "Settings: split dev, limit 3, 4-shot, no chat template, no system instruction; lm-eval 0.4.13" in out
    assert scores["datasets"]["jsts"]["in_avg"] is False and scores["datasets"]["jamp"]["in_avg"] is True
    assert all(float(f"{x:.12g}") == x for x in _floats(scores))  # no float noise
    assert scores["avg_categories"][:7] == ["NLI", "QA", "RC", "MC", "EL", "FA", "MR"]
    assert "llm-jp-eval scores written to" in out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama-ja")


def test_jaster_all_with_tiny_hf_model(jaster_env, tiny_model, tmp_path, capsys):
    out = _run(["--model", "hf", "--model_args", f"pretrained={tiny_model},dtype=float32", "--device", "cpu",
                "--batch_size", "8", "--tasks", "jaster_all_with_nc", "--limit", "2", "--num_fewshot", "0",
                "--output_path", str(tmp_path / "out"), "--log_samples"], capsys)
    results, scores, samples = _load_run(tmp_path / "out")
    _check_results_and_table(results, scores, num_fewshot=0)
    _check_samples(samples, limit=2, num_fewshot=0)
    for rows in samples.values():
        for row in rows:
            raw = row["resps"][0][0]
            assert "\n\n" not in raw  # generation stops at llm-jp-eval's cut
            assert isinstance(row["score"], float) or isinstance(row["score"], list)
    assert "| **AVG** (partial) |" in out


def test_user_include_path_still_works(jaster_env, tmp_path, capsys):
    own = Path(__file__).resolve().parent / "stubs" / "user_tasks"  # a task folder of a user's own
    _run(["--model", "dummy", "--model_args", "pretrained=dummy", "--tasks", "jaster_jemhopqa,my_own_task",
          "--include_path", str(own), "--limit", "2", "--output_path", str(tmp_path / "out")], capsys)
    results, scores, _ = _load_run(tmp_path / "out")
    assert {"jaster_jemhopqa", "my_own_task"} <= set(results["results"])
    assert set(scores["datasets"]) == {"jemhopqa"}
    assert scores["missing_categories"]  # partial run: flagged, not silently averaged as complete


def _env(jaster_env) -> dict[str, str]:
    return {**os.environ, "JASTER_DATA_DIR": str(jaster_env), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def test_tasks_dir_command_and_plain_lm_eval(jaster_env, tmp_path):
    printed = subprocess.run([sys.executable, "-m", "lm_eval_jaster", "tasks-dir"], check=True, capture_output=True,
                             text=True, env=_env(jaster_env)).stdout.strip()
    assert Path(printed) == TASKS_DIR and (TASKS_DIR / "_jaster_all.yaml").is_file()
    lm_eval = Path(sys.executable).with_name("lm_eval")
    run = subprocess.run([str(lm_eval), "--model", "dummy", "--model_args", "pretrained=dummy", "--tasks",
                          "jaster_jemhopqa", "--include_path", printed, "--limit", "2", "--output_path",
                          str(tmp_path / "out")], capture_output=True, text=True, env=_env(jaster_env), timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "jaster_jemhopqa" in run.stdout and "char_f1" in run.stdout
    results_file = next((tmp_path / "out").glob("*/results_*.json"))
    scored = subprocess.run([sys.executable, "-m", "lm_eval_jaster", "scores", str(results_file)], check=True,
                            capture_output=True, text=True, env=_env(jaster_env)).stdout
    assert "| QA | jemhopqa | char_f1 |" in scored


def test_scores_table_by_hand():
    from lm_eval_jaster.scores import compute_scores, format_table

    f = "llm-jp-eval"
    results = {"results": {
        "jaster_jamp": {f"exact_match,{f}": 0.5}, "jaster_janli": {f"exact_match,{f}": 1.0},
        "jaster_jemhopqa": {f"char_f1,{f}": 0.3},
        "jaster_jsts": {f"pearson,{f}": 0.9, f"spearman,{f}": 0.8},
        "jaster_mawps": {f"exact_match,{f}": float("nan")},
    }, "config": {"limit": 100}}
    scores = compute_scores(results)
    assert scores["categories"] == {"NLI": 0.75, "QA": 0.3, "MR": 0.0, "STS": 0.9}
    assert scores["AVG"] == pytest.approx((0.75 + 0.3 + 0.0) / 3)  # STS shown, not averaged; NaN → 0 as llm-jp-eval
    assert not math.isnan(scores["AVG"])
    expected_missing = [name for name, c in CATEGORIES.items() if c.in_avg and name not in ("NLI", "QA", "MR")
                        and any(i.category == name and i.in_avg for i in all_datasets().values())]
    assert scores["missing_categories"] == expected_missing and expected_missing[:4] == ["RC", "MC", "EL", "FA"]
    table = format_table(scores)
    assert "| **STS** (not in AVG) | | mean | **0.9000** |" in table
    assert "| **AVG** (partial) | NLI, QA, MR | mean of categories | **0.3500** |" in table
    assert scores["missing_categories"]
    assert compute_scores({"results": {"arc_easy": {"acc,none": 0.5}}}) is None


@pytest.mark.parametrize("payload, expected", [
    ("[1, 2]", "not an lm-eval results file: the top level is a list, not an object."),
    ('{"results": "x"}', 'not an lm-eval results file: "results" is missing or not an object.'),
    ('{"results": {"jaster_jamp": "x"}}', "not an lm-eval results file: results['jaster_jamp'] is a str"),
    ("not json", "is not JSON"),
    ('{"results": {"jaster_jamp": {"exact_match,llm-jp-eval": Infinity}}}',
     "jaster_jamp: exact_match (llm-jp-eval) is inf, not a score."),
    ('{"results": {"arc_easy": {"acc,none": 0.5}}}', "holds no Jaster task results"),
])
def test_scores_of_a_wrong_results_file_is_a_one_line_error(tmp_path, capsys, payload, expected):
    path = tmp_path / "results_2026-01-01T00-00-00.json"
    path.write_text(payload, encoding="utf-8")
    assert cli.main(["scores", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lm-eval-jaster: error: {path}") and expected in err and "Traceback" not in err


def test_scores_of_a_wrong_results_file_in_a_real_process(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('{"results": [1]}', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "lm_eval_jaster", "scores", str(path)], capture_output=True, text=True)
    assert run.returncode == 2 and run.stdout == "" and "Traceback" not in run.stderr
    assert run.stderr.splitlines() == [f"lm-eval-jaster: error: {path}: not an lm-eval results file: \"results\" is "
                                       f"missing or not an object.",
                                       "hint: Pass the results_<date>.json that lm-eval wrote."]
