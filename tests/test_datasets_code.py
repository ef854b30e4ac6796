"""CG datasets: MBPP-ja (hand-written fixture in the upstream format) and JHumanEval (the authors' release in the
mirror), their lm-eval glue (process_results, lenient "code" view, unsafe_code), and an lm-eval run end to end."""

from __future__ import annotations

import ast
import csv
import importlib.util
import json

import pytest

from lm_eval_jaster import TASKS_DIR, code_exec, scoring
from lm_eval_jaster.code_exec import parse_tests, run_many
from lm_eval_jaster.metrics.code import process_results_code_exec
from lm_eval_jaster.data import build_splits
from lm_eval_jaster.datasets import jhumaneval
from lm_eval_jaster.datasets.base import render_llm_jp_eval_json
from lm_eval_jaster.lenient import extract, extract_code
from lm_eval_jaster.filters import LenientAnswer
from lm_eval_jaster.metrics import normalize, normalize_gold
from lm_eval_jaster.registry import get_dataset

from fixture_mirror import FIXTURES, REPO

SPEC_TSV = REPO.parent / "shared" / "spec" / "jaster_datasets.tsv"


@pytest.fixture
def allowed(monkeypatch):
    monkeypatch.setenv(code_exec.ALLOW_ENV, "1")


def _fixture_rows() -> list[dict]:
    spec = importlib.util.spec_from_file_location("mbpp_fixture_maker", FIXTURES / "mbpp" / "_make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.rows()


# --- metadata -------------------------------------------------------------------------------------------------------

def test_mbpp_metadata_matches_llm_jp_eval():
    info = get_dataset("mbpp")
    with SPEC_TSV.open(encoding="utf-8", newline="") as f:
        row = next(r for r in csv.DictReader(f, delimiter="\t") if r["dataset"] == "mbpp")
    assert info.instruction == row["instruction_v1.3.0_or_first_seen"].replace("\\n", "\n")
    assert info.output_length == int(row["output_length"]) == 1000
    assert info.metrics == tuple(row["metrics"].split(",")) == ("code_exec", "pylint_check")
    assert info.category == "CG" and info.in_avg and info.unsafe_code and not info.non_commercial
    assert info.license == "CC BY 4.0" and info.answer_format == "code"
    assert info.published_dev_sha256 == "92ad569be57387e1103d859bfb8020a47bda24965e551bf2ae98c20847613c6d"


def test_jhumaneval_metadata():
    info = get_dataset("jhumaneval")
    assert info.category == "CG" and not info.in_avg and info.unsafe_code
    assert info.metrics == ("code_exec",) and info.output_length == 1000 and info.license == "MIT"
    assert info.instruction == get_dataset("mbpp").instruction and info.published_dev_sha256 is None


# --- MBPP-ja from the fixture ---------------------------------------------------------------------------------------

def test_mbpp_splits_from_fixture(jaster_env):
    splits = build_splits("mbpp", use_cache=False)
    assert (len(splits["train"]), len(splits["dev"]), len(splits["test"])) == (374, 90, 500)  # MBPP's own splits
    rows = _fixture_rows()
    first_test = splits["test"][0]  # row 10 = task_id 11
    assert first_test.input == ("文字列から、与えられた文字の最初と最後の出現を取り除くpython関数を書きなさい。\n\n"
                                "### テストケース:\n"
                                'assert remove_occ("hello", "l") == "heo"\n'
                                'assert remove_occ("abcda", "a") == "bcd"\n'
                                'assert remove_occ("PHP", "P") == "H"')
    assert first_test.output == str(rows[10]["test_list"])
    assert first_test.output.startswith("['assert remove_occ(\"hello\"")  # str() of the list: Python's quoting
    # a string holding both quote kinds: repr keeps single quotes and escapes them, as llm-jp-eval's str(list) does
    assert splits["dev"][0].output == ("['assert greet(\"O\\'Brien\") == \"Hello, O\\'Brien!\"', "
                                       "\"assert greet('Ann') == 'Hello, Ann!'\"]")
    assert [s.output for s in splits["train"][:1]] == [str(rows[600]["test_list"])]  # test_setup_code ignored
    for split in splits.values():
        for sample in split:
            tests = parse_tests(normalize_gold(sample.output))
            assert tests and all(t.startswith("assert ") for t in tests)
            assert sample.input.endswith("\n".join(ast.literal_eval(sample.output)))


def test_mbpp_dev_export_layout(jaster_env):
    info = get_dataset("mbpp")
    text = render_llm_jp_eval_json(info, build_splits(info)["dev"])
    payload = json.loads(text)
    assert list(payload) == ["instruction", "output_length", "metrics", "few_shots", "samples"]
    assert payload["metrics"] == ["code_exec", "pylint_check"] and payload["few_shots"] == []
    assert len(payload["samples"]) == 90


def test_mbpp_fixture_solutions_pass_and_nfkc_gold(jaster_env, allowed):
    rows = _fixture_rows()
    splits = build_splits("mbpp")
    jobs = [(rows[510 + i]["code"].replace("\r\n", "\n"), parse_tests(normalize_gold(s.output)))
            for i, s in enumerate(splits["dev"][:6])]
    assert [r.passed for r in run_many(jobs)] == [True] * 6
    # Row 512's full-width test is run as llm-jp-eval runs it: NFKC-normalised (assert to_upper("ab1") == "AB1").
    assert parse_tests(normalize_gold(splits["dev"][2].output))[1] == 'assert to_upper("ab1") == "AB1"'


# --- JHumanEval from the mirror -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def jhumaneval_records(shared_data) -> list[dict]:
    return jhumaneval.read_records(shared_data / "jhumaneval" / jhumaneval.FILE)


def test_jhumaneval_splits_from_mirror(shared_data, empty_cache, jhumaneval_records):
    splits = build_splits("jhumaneval", shared_data)
    assert (len(splits["train"]), len(splits["dev"]), len(splits["test"])) == (32, 66, 66)
    assert len(jhumaneval_records) == 164
    first = splits["train"][0]
    record = jhumaneval_records[0]
    assert first.input.startswith(record["prompt"].rstrip() + "\n\n### テストケース:\ndef check(candidate):\n")
    assert first.input.endswith("\n\ncheck(has_close_elements)")
    (program,) = parse_tests(first.output)
    assert "METADATA" not in program and program.endswith("\n\ncheck(has_close_elements)\n")
    ordered = [s.input for s in splits["train"] + splits["dev"] + splits["test"]]
    assert ordered == [jhumaneval._sample(r).input for r in jhumaneval_records]  # file order, no shuffle


def test_jhumaneval_canonical_solutions_pass_and_stubs_fail(jhumaneval_records, allowed):
    programs = [parse_tests(normalize_gold(jhumaneval._sample(r).output)) for r in jhumaneval_records]
    solved = run_many([(r["prompt"] + r["canonical_solution"], p) for r, p in zip(jhumaneval_records, programs)])
    failed = {r["task_id"]: res.reason for r, res in zip(jhumaneval_records, solved) if not res.passed}
    # JHumanEval/64's prompt in the authors' file is not valid Python ('"""def vowels_count' on one line).
    assert set(failed) == {"JHumanEval/64"} and failed["JHumanEval/64"].startswith("solution raised SyntaxError")
    stubs = run_many([(r["prompt"] + "    return None\n", p) for r, p in zip(jhumaneval_records, programs)])
    assert not any(res.passed for res in stubs)


# --- lm-eval glue ---------------------------------------------------------------------------------------------------

DOC = {"input": "…", "output": str(["assert add(1, 2) == 3", "assert add(0, 0) == 0"]), "jaster_dataset": "mbpp"}


def test_process_results_strict_and_lenient(allowed):
    from lm_eval_jaster.scoring import process_results

    good = "def add(a, b):\n    return a + b"
    strict = process_results(DOC, [normalize(good)])
    assert strict["code_exec"] == strict["score"] == 1.0 and "format_adherence" not in strict
    assert strict == process_results_code_exec(DOC, [normalize(good)])
    assert process_results(DOC, [normalize("def add(a, b):\n    return a * b")])["code_exec"] == 0.0
    fenced = f"```python\n{good}\n```"
    assert process_results(DOC, [normalize(fenced)])["code_exec"] == 0.0  # llm-jp-eval: fences fail
    lenient = process_results(DOC, [LenientAnswer(extract(fenced, "code"), normalize(fenced))])
    # As written the answer does not parse (fences): not well-formed; extracted, it passes: recovered.
    assert lenient["code_exec"] == 1.0 and lenient["format_adherence"] == 0.0 and lenient["lenient_recovered"] == 1.0
    plain = process_results(DOC, [LenientAnswer(extract(good, "code"), normalize(good))])
    assert plain["code_exec"] == 1.0 and plain["format_adherence"] == 1.0 and plain["lenient_recovered"] == 0.0
    if importlib.util.find_spec("pylint"):
        assert strict["pylint_check"] == 1.0
        assert process_results_code_exec(DOC, [normalize("lol")])["pylint_check"] == 0.0  # E0602
    else:
        assert "pylint_check" not in strict


def test_process_results_refuses_without_permission(monkeypatch):
    monkeypatch.delenv(code_exec.ALLOW_ENV, raising=False)
    monkeypatch.delenv(code_exec.HF_ALLOW_ENV, raising=False)
    with pytest.raises(code_exec.CodeExecutionNotAllowed):
        process_results_code_exec(DOC, ["def add(a, b):\n    return a + b + 0"])


def test_extract_code():
    assert extract_code("def f():\n    return 1") == "def f():\n    return 1"
    assert extract_code("```python\ndef f():\n    return 1\n```") == "def f():\n    return 1"
    assert extract_code("```\nx = 1") == "x = 1"  # unclosed fence (generation stopped)
    assert extract_code("\n\ndef f():\n  return 1\n\nprint(f())") == "def f():\n  return 1"
    assert extract_code("    def f():\n        return 1") == "def f():\n    return 1"
    assert extract_code("def f():\n    \n    return 1") == "def f():\n    \n    return 1"  # kept byte for byte
    assert extract_code("x = 'ａ'") == "x = 'a'"  # NFKC, as the strict reading


def test_task_yaml_declares_unsafe_code_and_zero_shots(jaster_env):
    from lm_eval.tasks import TaskManager

    tasks = TaskManager(include_path=str(TASKS_DIR), include_defaults=False).load(["jaster_mbpp", "jaster_jhumaneval"])
    for name, output_length in (("jaster_mbpp", 1000), ("jaster_jhumaneval", 1000)):
        task = tasks["tasks"][name]
        assert task.UNSAFE_CODE is True and task.config.num_fewshot == 0
        assert task.config.generation_kwargs["max_gen_toks"] == output_length
        assert task.config.process_results is scoring.process_results  # which runs metrics.code for CG


# --- lm-eval end to end ---------------------------------------------------------------------------------------------

def _scripted_lm(answers: dict[str, str]):
    from lm_eval.api.model import LM

    class Scripted(LM):
        def generate_until(self, requests, disable_tqdm: bool = False):
            out = []
            for request in requests:
                query = request.args[0].rsplit("\n\n### 入力:\n", 1)[1].removesuffix("\n\n### 応答:\n")
                out.append(answers.get(query, "lol"))
            return out

        def loglikelihood(self, requests, disable_tqdm: bool = False):
            raise NotImplementedError

        def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
            raise NotImplementedError

    return Scripted()


def _no_blank_lines(code: str) -> str:
    return "\n".join(line for line in code.split("\n") if line.strip())


def test_lm_eval_end_to_end_needs_confirmation_and_scores(jaster_env, monkeypatch, jhumaneval_records):
    """A scripted model answers correctly (mbpp: plain code; jhumaneval: fenced code). No environment switch is
    set: the code runs because lm-eval's evaluate() was called with confirm_run_unsafe_code=True."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    monkeypatch.delenv(code_exec.ALLOW_ENV, raising=False)
    monkeypatch.delenv(code_exec.HF_ALLOW_ENV, raising=False)
    rows = {r["task_id"]: r for r in _fixture_rows()}
    mbpp_dev = build_splits("mbpp")["dev"]
    answers = {s.input: rows[511 + i]["code"].replace("\r\n", "\n") for i, s in enumerate(mbpp_dev[:3])}
    jh_dev = build_splits("jhumaneval")["dev"]
    by_input = {jhumaneval._sample(r).input: r for r in jhumaneval_records}
    for sample in jh_dev[:2]:
        record = by_input[sample.input]
        answers[sample.input] = f"```python\n{_no_blank_lines(record['prompt'] + record['canonical_solution'])}\n```"
    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False)
    kwargs = dict(tasks=["jaster_mbpp", "jaster_jhumaneval"], limit=3, task_manager=manager, log_samples=False)
    with pytest.raises(ValueError, match="marked as unsafe"):
        simple_evaluate(model=_scripted_lm(answers), **kwargs)
    results = simple_evaluate(model=_scripted_lm(answers), confirm_run_unsafe_code=True, **kwargs)["results"]
    mbpp, jh = results["jaster_mbpp"], results["jaster_jhumaneval"]
    assert mbpp["code_exec,llm-jp-eval"] == mbpp["score,llm-jp-eval"] == 1.0
    assert mbpp["code_exec,lenient"] == 1.0 and mbpp["format_adherence,lenient"] == 1.0
    assert jh["code_exec,llm-jp-eval"] == 0.0  # fenced answers fail llm-jp-eval's reading …
    assert jh["code_exec,lenient"] == pytest.approx(2 / 3)  # … and pass the lenient one (2 of 3 answered)
    assert jh["format_adherence,lenient"] == pytest.approx(1 / 3)  # fenced code does not parse; "lol" does
    assert jh["lenient_recovered,lenient"] == pytest.approx(2 / 3)
    if importlib.util.find_spec("pylint"):
        assert mbpp["pylint_check,llm-jp-eval"] == 1.0
