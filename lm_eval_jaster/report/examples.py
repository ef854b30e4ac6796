"""Worst examples: per run and task, the wrong answers that score lowest under strict scoring.

Wrong = the strict per-sample key metric is below its maximum (1.0). JSTS has only corpus metrics (Pearson/Spearman),
so its samples are ranked by the largest ``|parse_float(pred) - gold|``, the error llm-jp-eval's correlation sees
(an unparsable answer counts as -2.0, as in llm-jp-eval), and a sample is wrong when that error is not 0. Ties: lowest
doc_id first. The raw, strict and lenient answers are shown once when they are equal.
"""

from __future__ import annotations

import json

import math
from typing import Any

from lm_eval_jaster.metrics import parse_float
from lm_eval_jaster.registry import all_datasets
from lm_eval_jaster.report.markdown import NEWLINE_MARK, md_code, md_fence, md_text
from lm_eval_jaster.report.runs import LOG_SAMPLES_HINT, Run, SampleRecord
from lm_eval_jaster.scores import FILTER, LENIENT_FILTER, fixed

PROMPT_TAIL_CHARS = 200
MAX_SCORE = 1.0  # every per-sample key metric of Jaster (exact_match, char_f1, set_f1, rouge2, code_exec) is 0..1


def first(value: Any) -> Any:
    """``[["x"]]`` / ``["x"]`` / ``"x"`` → ``"x"``."""
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return value


def prompt_of(sample: dict) -> str:
    args = sample.get("arguments")
    if isinstance(args, dict) and args:
        head = next(iter(args.values()))
        prompt = head.get("arg_0", "") if isinstance(head, dict) else first(head)
    else:
        prompt = first(args) or ""
    return _messages_text(str(first(prompt) if isinstance(prompt, list) else prompt))


def _messages_text(prompt: str) -> str:
    """An API chat model's prompt is the JSON list of messages it was sent: show them as text, one per turn."""
    if not prompt.startswith("[{"):
        return prompt
    try:
        messages = json.loads(prompt)
    except ValueError:
        return prompt
    if not (isinstance(messages, list) and all(isinstance(m, dict) and "content" in m for m in messages)):
        return prompt
    return "\n\n".join(f"[{m.get('role', '?')}]\n{m['content']}" for m in messages)


def rankable(value: Any) -> bool:
    """A per-sample score (a number) or the (pred, gold) pair of a correlation; not a corpus metric's item."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
        isinstance(value, (list, tuple)) and len(value) == 2)


def badness(sample: dict, key_metric: str) -> tuple[float, str, bool]:
    """(sort key, shown value, wrong): higher sort key = worse sample; ``wrong``: below the metric's maximum."""
    value = sample.get(key_metric)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return -float(value), f"{key_metric} {fixed(float(value))}", float(value) < MAX_SCORE
    if isinstance(value, (list, tuple)) and len(value) == 2:  # corpus metric: [pred, gold]
        pred, gold = value
        try:
            error = abs(parse_float(pred) - float(gold))
        except (TypeError, ValueError):
            error = math.inf
        return error, f"|parse_float(pred) - gold| = {error:.2f}", error > 0
    return math.inf, f"{key_metric} not recorded", False


def worst_samples(samples: list[dict], key_metric: str, n: int) -> list[tuple[dict, dict | None, str]]:
    """The n worst wrong strict samples as (strict line, lenient line of the same doc or None, shown value)."""
    lenient = {s.get("doc_id"): s for s in samples if s.get("filter") == LENIENT_FILTER}
    strict = [s for s in samples if s.get("filter", FILTER) == FILTER]
    return _worst([(s, lenient.get(s.get("doc_id"))) for s in strict], key_metric, n)


def worst_records(records: list[SampleRecord], key_metric: str, n: int) -> list[tuple[dict, dict | None, str]]:
    return _worst([(r.strict, r.lenient) for r in records], key_metric, n)


def _worst(pairs: list[tuple[dict, dict | None]], key_metric: str, n: int) -> list[tuple[dict, dict | None, str]]:
    scored = [(badness(strict, key_metric), strict, lenient) for strict, lenient in pairs]
    wrong = [item for item in scored if item[0][2]]
    wrong.sort(key=lambda item: (-item[0][0], item[1].get("doc_id", 0)))
    return [(strict, lenient, bad[1]) for bad, strict, lenient in wrong[:n]]


def answer_lines(strict: dict, lenient: dict | None) -> list[str]:
    """"- raw answer: …", "- strict answer: …", "- lenient answer: …", equal answers merged into one line."""
    answers = [("raw", first(strict.get("resps"))), ("strict", first(strict.get("filtered_resps")))]
    if lenient is not None:
        answers.append(("lenient", first(lenient.get("filtered_resps"))))
    merged: list[tuple[list[str], Any]] = []
    for name, text in answers:
        for names, shown in merged:
            if shown == text:
                names.append(name)
                break
        else:
            merged.append(([name], text))
    return [f"- {' = '.join(names)} answer: {md_code(text)}" for names, text in merged]


def format_example(strict: dict, lenient: dict | None, shown: str) -> list[str]:
    """Markdown for one sample: heading, prompt tail (fenced), answers and gold (inline code)."""
    prompt = prompt_of(strict)
    tail = prompt[-PROMPT_TAIL_CHARS:]
    head = f"#### doc {md_text(strict.get('doc_id'))}: {md_text(shown)}"
    if lenient is not None and isinstance(lenient.get("format_adherence"), (int, float)):
        head += f", format adherence {lenient['format_adherence']:.0f}"
    return [head, "", f"Prompt ({'last ' if len(tail) < len(prompt) else ''}{len(tail)} characters):", "",
            md_fence(("…" if len(tail) < len(prompt) else "") + tail), "",
            *answer_lines(strict, lenient), f"- gold: {md_code(first(strict.get('target')))}", ""]


def worst_examples_markdown(runs: list[Run], n: int) -> str:
    """Per model and task, the n lowest-scoring wrong samples (see the module docstring for the ranking)."""
    lines = ["# Worst examples", "",
             f"Per model and task, the {n} lowest-scoring wrong answers (strict per-sample key metric below 1) under "
             f"the strict (\"{FILTER}\") scoring; ties: lowest doc_id first. jsts is ranked by the largest "
             f"|parse\\_float(pred) - gold|. Answers that are equal are shown once (\"raw = strict = lenient\"); "
             f"newlines in answers are shown as {NEWLINE_MARK}.", ""]
    for run in runs:
        lines += [f"## {md_text(run.label)}", ""]
        if not run.samples:
            lines += [f"No samples files next to {md_text(run.results_file)}. {md_text(LOG_SAMPLES_HINT)}", ""]
        for name, records in run.samples.items():
            info = all_datasets()[name]
            lines += [f"### {md_text(info.task_name)} ({md_text(info.key_metric)})", ""]
            if records and not any(rankable(r.strict.get(info.key_metric)) for r in records):
                lines += [f"{md_text(info.key_metric)} is corpus-level: no per-sample score to rank by.", ""]
                continue
            worst = worst_records(records, info.key_metric, n)
            if not worst:
                lines += [f"No wrong answers among the {len(records)} samples.", ""]
            for strict, lenient, shown in worst:
                lines += format_example(strict, lenient, shown)
    return "\n".join(lines)
