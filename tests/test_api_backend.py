"""End to end: lm-eval's API backends (local-completions, local-chat-completions) against an OpenAI-compatible
server started by the test.

The server answers each prompt it recognises with a known text (the gold, a full-width variant of the gold, or a
wrong answer), so the scores lm-eval-jaster reports can be recomputed here from what the server sent. Needs
lm-eval's ``[api]`` extra (tenacity, aiohttp), which ``lm-eval-jaster[test]`` installs.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import pytest

from lm_eval_jaster import cli
from lm_eval_jaster.data import build_splits
from lm_eval_jaster.metrics import char_f1, exact_match, normalize, normalize_gold
from lm_eval_jaster.registry import get_dataset
from reference import llm_jp_eval_prompt

LIMIT = 6
NUM_FEWSHOT = 4
SYSTEM_INSTRUCTION = "あなたは誠実で優秀な日本人のアシスタントです。"
METRICS: dict[str, Callable[[str, str], float]] = {"exact_match": exact_match, "char_f1": char_f1}
UNKNOWN_PROMPT_ANSWER = "UNKNOWN PROMPT"


def _full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (NFKC maps them back)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def _answer_for(index: int, gold: str) -> str:
    """The server's answer to the index-th doc: right, right after NFKC, or wrong/partial — by turns."""
    if index % 3 == 0:
        return gold
    if index % 3 == 1:
        return _full_width(gold)
    return gold[: len(gold) // 2] + "かな"


class _Expected:
    """Every prompt the run should send (llm-jp-eval's), with its dataset, doc index, gold and the server's answer."""

    def __init__(self, datasets: list[str]):
        self.by_prompt: dict[str, tuple[str, int, str, str]] = {}
        for name in datasets:
            info = get_dataset(name)
            splits = build_splits(info)
            shots = [(s.input, s.output) for s in splits["train"][:NUM_FEWSHOT]]
            for index, sample in enumerate(splits["dev"][:LIMIT]):
                prompt = llm_jp_eval_prompt(info.instruction, shots, sample.input)
                self.by_prompt[prompt] = (name, index, sample.output, _answer_for(index, sample.output))

    def answer(self, prompt: str) -> str:
        return self.by_prompt[prompt][3] if prompt in self.by_prompt else UNKNOWN_PROMPT_ANSWER

    def scores(self) -> dict[str, float]:
        """Each dataset's key metric, computed from the server's answers with llm-jp-eval's functions."""
        per_dataset: dict[str, list[float]] = {}
        for name, _, gold, answer in self.by_prompt.values():
            metric = METRICS[get_dataset(name).key_metric]
            per_dataset.setdefault(name, []).append(metric(normalize(answer), normalize_gold(gold)))
        return {name: sum(values) / len(values) for name, values in per_dataset.items()}


def _apply_stop(text: str, stop: list[str]) -> str:
    """As an OpenAI-compatible server does: the text ends before the first stop sequence."""
    cut = min((text.find(s) for s in stop if s in text), default=len(text))
    return text[:cut]


class _OpenAICompatibleServer:
    """/v1/completions and /v1/chat/completions on 127.0.0.1; records every request body."""

    def __init__(self, answer: Callable[[str], str]):
        self.requests: list[tuple[str, dict[str, Any]]] = []
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
                with lock:
                    owner.requests.append((self.path, body))
                stop = body.get("stop") or []
                if self.path == "/v1/completions":
                    prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
                    choices = [{"index": i, "text": _apply_stop(answer(p), stop), "finish_reason": "stop"}
                               for i, p in enumerate(prompts)]
                    reply = {"object": "text_completion", "model": body["model"], "choices": choices}
                elif self.path == "/v1/chat/completions":
                    user_turns = [m["content"] for m in body["messages"] if m["role"] == "user"]
                    content = _apply_stop(answer(user_turns[-1]), stop)
                    reply = {"object": "chat.completion", "model": body["model"], "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(reply, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "_OpenAICompatibleServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def _load_run(output_path: Path) -> tuple[dict, dict[str, list[dict]]]:
    results_files = sorted(output_path.glob("*/results_*.json"))
    assert len(results_files) == 1, results_files
    scores_file = results_files[0].with_name(results_files[0].name.replace("results_", "jaster_scores_"))
    scores = json.loads(scores_file.read_text(encoding="utf-8"))
    samples = {}
    for path in results_files[0].parent.glob("samples_*.jsonl"):
        task = path.name[len("samples_"):].rsplit("_", 1)[0]
        samples[task] = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return scores, samples


def _check_scores(expected: _Expected, scores: dict, samples: dict[str, list[dict]], prompt_of) -> None:
    want = expected.scores()
    assert set(scores["datasets"]) == set(want)
    for name, value in want.items():
        assert 0.0 < value < 1.0, (name, value)  # the answers mix right and wrong: a score that can be wrong
        assert scores["datasets"][name]["score"] == pytest.approx(value, abs=1e-12), name
    for name in want:
        rows = [r for r in samples[get_dataset(name).task_name] if r["filter"] == "llm-jp-eval"]
        assert len(rows) == LIMIT
        for row in rows:
            answer = expected.answer(prompt_of(row["arguments"]["gen_args_0"]["arg_0"]))
            assert row["resps"] == [[answer]]
            assert row["filtered_resps"] == [normalize(answer)]


def _run(args: list[str], tmp_path: Path) -> tuple[dict, dict[str, list[dict]]]:
    cli.main([*args, "--limit", str(LIMIT), "--output_path", str(tmp_path / "out"), "--log_samples"])
    return _load_run(tmp_path / "out")


def test_local_completions_sends_llm_jp_eval_prompts_and_scores_the_answers(jaster_env, tmp_path):
    datasets = ["jamp", "jemhopqa", "mawps"]
    expected = _Expected(datasets)
    with _OpenAICompatibleServer(expected.answer) as server:
        scores, samples = _run(["--model", "local-completions", "--model_args",
                                f"base_url={server.url}/completions,model=test-model,tokenizer_backend=None",
                                "--tasks", ",".join(get_dataset(n).task_name for n in datasets)], tmp_path)
    assert {path for path, _ in server.requests} == {"/v1/completions"}
    prompts = [body["prompt"] for _, body in server.requests]
    assert sorted(prompts) == sorted(expected.by_prompt)  # each llm-jp-eval prompt, as text, exactly once
    for _, body in server.requests:
        name = expected.by_prompt[body["prompt"]][0]
        assert body["model"] == "test-model"
        assert body["max_tokens"] == get_dataset(name).output_length
        assert body["stop"] == ["\n\n"]
        assert body["temperature"] == 0
    _check_scores(expected, scores, samples, prompt_of=lambda arg: arg)


def _chat_run(tmp_path: Path, extra: list[str]):
    datasets = ["jamp", "jemhopqa"]
    expected = _Expected(datasets)
    with _OpenAICompatibleServer(expected.answer) as server:
        scores, samples = _run(["--model", "local-chat-completions", "--model_args",
                                f"base_url={server.url}/chat/completions,model=test-model,num_concurrent=2",
                                "--apply_chat_template", *extra,
                                "--tasks", ",".join(get_dataset(n).task_name for n in datasets)], tmp_path)
    assert {path for path, _ in server.requests} == {"/v1/chat/completions"}
    assert len(server.requests) == len(expected.by_prompt)
    return expected, server.requests, scores, samples


def _logged_messages(logged) -> list[dict]:
    """lm-eval logs an API chat prompt as its JsonChatStr tuple: a one-element list holding the messages as JSON."""
    assert isinstance(logged, list) and len(logged) == 1 and isinstance(logged[0], str), logged
    return json.loads(logged[0])


def _user_prompt(logged) -> str:
    return next(m["content"] for m in _logged_messages(logged) if m["role"] == "user")


def test_local_chat_completions_sends_the_prompt_as_one_user_message(jaster_env, tmp_path):
    expected, requests, scores, samples = _chat_run(tmp_path, [])
    users = []
    for _, body in requests:
        messages = body["messages"]
        assert len(messages) == 1 and messages[0]["role"] == "user", messages  # single_turn: one user message
        users.append(messages[0]["content"])
        name = expected.by_prompt[messages[0]["content"]][0]
        assert body["max_tokens"] == get_dataset(name).output_length
        assert body["stop"] == ["\n\n"]
        assert body["temperature"] == 0
    assert sorted(users) == sorted(expected.by_prompt)
    sent = {messages[0]["content"]: messages for messages in (body["messages"] for _, body in requests)}
    for rows in samples.values():  # what --log_samples shows is the message list that was sent
        for row in rows:
            logged = _logged_messages(row["arguments"]["gen_args_0"]["arg_0"])
            assert logged == sent[logged[0]["content"]]
    _check_scores(expected, scores, samples, prompt_of=_user_prompt)


def test_local_chat_completions_sends_system_instruction_as_system_message(jaster_env, tmp_path):
    expected, requests, _, _ = _chat_run(tmp_path, ["--system_instruction", SYSTEM_INSTRUCTION])
    for _, body in requests:
        assert body["messages"][0] == {"role": "system", "content": SYSTEM_INSTRUCTION}
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
        assert body["messages"][1]["content"] in expected.by_prompt


def test_chat_backend_without_apply_chat_template_stops_before_the_model(jaster_env, capsys):
    from lm_eval_jaster import cli

    status = cli.main(["--model", "local-chat-completions", "--model_args",
                       "base_url=http://127.0.0.1:9/v1/chat/completions,model=x", "--tasks", "jaster_jamp"])
    assert status == 2
    assert "--model local-chat-completions sends chat messages: it needs --apply_chat_template." in capsys.readouterr().err
