"""--apply_chat_template: llm-jp-eval v2's single user message (default) or lm-eval's multi-turn layout, and no
instruction is ever lost to a chat template that rejects the system role."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lm_eval_jaster import cli
from lm_eval_jaster.data import build_splits
from lm_eval_jaster.registry import get_dataset
from lm_eval_jaster import settings
from lm_eval_jaster.task import JasterTask, keep_system_text
from reference import HEADER, llm_jp_eval_prompt
from tiny_model import CHAT_TEMPLATE, build_tiny_model

NO_SYSTEM_TEMPLATE = ("{% for m in messages %}{% if m['role'] == 'system' %}"
                      "{{ raise_exception('System role not supported') }}{% endif %}"
                      "<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                      "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


@pytest.fixture(scope="module")
def chat_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("chat")
    return {"plain": build_tiny_model(root / "with-system"),
            "no_system": build_tiny_model(root / "no-system", chat_template=NO_SYSTEM_TEMPLATE)}


def _prompts(model_dir: Path, out: Path, extra: list[str], capsys) -> list[dict]:
    cli.main(["--model", "hf", "--model_args", f"pretrained={model_dir},dtype=float32", "--device", "cpu",
              "--tasks", "jaster_jemhopqa", "--limit", "2", "--num_fewshot", "2", "--apply_chat_template",
              "--output_path", str(out), "--log_samples", *extra])
    capsys.readouterr()
    (samples,) = out.glob("*/samples_jaster_jemhopqa_*.jsonl")
    return [json.loads(line) for line in samples.read_text(encoding="utf-8").splitlines()]


def _expected_plain(doc_input: str, shots: int = 2) -> str:
    info = get_dataset("jemhopqa")
    train = build_splits(info)["train"]
    return llm_jp_eval_prompt(info.instruction, [(s.input, s.output) for s in train[:shots]], doc_input)


def test_default_is_one_user_message_holding_llm_jp_evals_prompt(jaster_env, chat_models, tmp_path, capsys):
    for row in _prompts(chat_models["plain"], tmp_path / "out", [], capsys):
        prompt = row["arguments"]["gen_args_0"]["arg_0"]
        assert prompt == f"<|user|>\n{_expected_plain(row['doc']['input'])}\n<|assistant|>\n"


def test_multiturn_is_lm_evals_layout(jaster_env, chat_models, tmp_path, capsys):
    rows = _prompts(chat_models["plain"], tmp_path / "out",
                    ["--metadata", '{"jaster_chat_format": "multiturn"}'], capsys)
    prompt = rows[0]["arguments"]["gen_args_0"]["arg_0"]
    assert prompt.startswith(f"<|system|>\n{HEADER}\n\n### 指示:\n")
    assert prompt.count("<|user|>") == 3 and prompt.count("<|assistant|>") == 3  # 2 shots + query


def test_system_rejecting_template_keeps_the_instruction_multiturn(jaster_env, chat_models, tmp_path, capsys):
    rows = _prompts(chat_models["no_system"], tmp_path / "out",
                    ["--metadata", '{"jaster_chat_format": "multiturn"}'], capsys)
    prompt = rows[0]["arguments"]["gen_args_0"]["arg_0"]
    instruction = get_dataset("jemhopqa").instruction
    assert "<|system|>" not in prompt
    assert prompt.startswith(f"<|user|>\n{HEADER}\n\n### 指示:\n{instruction}\n\n### 入力:\n")


def test_system_rejecting_template_keeps_system_instruction_single_turn(jaster_env, chat_models, tmp_path, capsys):
    rows = _prompts(chat_models["no_system"], tmp_path / "out", ["--system_instruction", "あなたは誠実なアシスタントです。"],
                    capsys)
    for row in rows:
        prompt = row["arguments"]["gen_args_0"]["arg_0"]
        assert prompt == f"<|user|>\nあなたは誠実なアシスタントです。{_expected_plain(row['doc']['input'])}\n<|assistant|>\n"


def test_keep_system_text_leaves_working_templates_alone():
    calls = []

    def render(messages, **kwargs):
        calls.append(messages)
        return "".join(f"[{m['role']}]{m['content']}" for m in messages)

    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    assert keep_system_text(render)(messages) == "[system]S[user]U"
    assert len(calls) == 1

    def dropping(messages, **kwargs):
        return "".join(f"[{m['role']}]{m['content']}" for m in messages if m["role"] != "system")

    assert keep_system_text(dropping)(messages) == "[user]SU"
    assert messages[1]["content"] == "U"  # the caller's messages are not modified


def test_chat_format_validation(monkeypatch):
    assert settings.resolve({}).chat_format == "single_turn"
    monkeypatch.setenv("JASTER_CHAT_FORMAT", "multiturn")
    assert settings.resolve({}).chat_format == "multiturn"
    with pytest.raises(settings.SettingsError, match="jaster_chat_format = 'two_turns' is not one of"):
        settings.resolve({"jaster_chat_format": "two_turns"})


def test_the_dropped_system_message_warning_comes_once_per_task(caplog):
    import logging
    import types

    folds = []
    task = types.SimpleNamespace(info=types.SimpleNamespace(task_name="jaster_jamp"), _folded_system=False)
    render = keep_system_text(lambda messages, **kw: "".join(m["content"] for m in messages if m["role"] == "user"),
                              on_fold=lambda: (folds.append(1), JasterTask._warn_folded_system(task)))
    with caplog.at_level(logging.WARNING, logger="lm_eval.jaster"):
        for _ in range(5):  # five requests of one task
            render([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
    assert len(folds) == 5
    assert [r.getMessage() for r in caplog.records].count(
        "jaster_jamp: the chat template dropped the system message; its text is put at the start of the first user "
        "message instead, so the instruction is kept (once per task).") == 1


def test_tiny_model_template_is_the_one_asserted_above():
    assert "<|{{ m['role'] }}|>\n{{ m['content'] }}\n" in CHAT_TEMPLATE
