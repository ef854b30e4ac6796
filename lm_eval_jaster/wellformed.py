"""Is the answer llm-jp-eval scores in the form of the dataset's gold answers? (``format_adherence``)

:func:`is_well_formed` looks at the *strict* answer, ``lm_eval_jaster.metrics.normalize(raw)``, and checks its form,
never its content, by the dataset's ``answer_format`` and key metric (:func:`rule_kind`). Every rule is one that
every gold answer of its dataset satisfies; tests/test_wellformed.py checks that on every split. Whitespace follows
the metric: exact_match answers must have none around them, the other metrics' rules look at trimmed text. The rules:
docs/answers.md#well-formed-answers.

This module is a leaf: it imports nothing from the rest of the package at run time, and never raises on a ``str``.
"""

from __future__ import annotations

import ast
import functools
import re
import unicodedata
import warnings
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from lm_eval_jaster.datasets.base import DatasetInfo

__all__ = ["is_well_formed", "rule_description", "rule_kind"]

_CORRELATION_METRICS = frozenset({"pearson", "spearman"})
_STS_MAX = 5.0

_CHOICE = re.compile(r"0|[1-9][0-9]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_UNSIGNED = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_HIRAGANA = re.compile("[\u3041-\u3096\u309d\u309e]")
# CJK ideographs (unified, extension A, B…H, compatibility) and katakana letters (full-width ァ..ヺ, ヽヾヿ, the
# small katakana extension). ー and ・ belong to hiragana text too; half-width katakana cannot survive NFKC.
_NOT_READING = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
                          "\u30a1-\u30fa\u30fd-\u30ff\u31f0-\u31ff]")

# "選択肢：0.金,1.欲望,…" in a multiple-choice input (after NFKC the colon is ASCII).
_CHOICES_LINE = re.compile(r"選択肢\s*:\s*(.*)")
_CHOICE_SPLIT = re.compile(r",(?=\s*[0-9]+\.)")
_CHOICE_ITEM = re.compile(r"\s*([0-9]+)\.", re.S)


def rule_kind(info: DatasetInfo) -> str:
    """The rule :func:`is_well_formed` applies to ``info``: "label", "choice", "number", "score", "lines",
    "reading", "line" (one line of text), "text" (non-blank text) or "code"."""
    fmt = info.answer_format
    if fmt == "number":
        return "score" if info.key_metric in _CORRELATION_METRICS else "number"
    if fmt in ("label", "choice", "reading", "code"):
        return fmt
    if fmt in ("pairs", "lines"):
        return "lines"
    if fmt == "text" and info.key_metric == "char_f1":
        return "line"
    return "text"


def rule_description(info: DatasetInfo) -> str:
    """One line saying what a well-formed strict answer of ``info`` looks like (for docs and tables)."""
    kind = rule_kind(info)
    if kind == "label":
        return "exactly one of " + ", ".join(f"`{label}`" for label in info.labels) + " (no surrounding whitespace)"
    if kind == "choice":
        return "a choice number `0`, `1`, … below the number of choices (ASCII digits, no surrounding whitespace)"
    if kind == "number":
        return "a decimal number such as `12`, `-3`, `0.25` (no leading zeros, no surrounding whitespace)"
    if kind == "score":
        return f"a decimal number from 0 to {_STS_MAX:g}, such as `3` or `3.2` (surrounding whitespace ignored)"
    if kind == "lines":
        shape = f"fully matches `{info.line_pattern}`" if info.line_pattern else "is non-empty"
        if info.single_line:
            return f"one line that, trimmed, {shape}"
        return f"one or more lines; every line, trimmed, {shape} (no empty lines)"
    if kind == "reading":
        return "one non-empty line holding hiragana, without kanji or katakana letters (ー ・ allowed)"
    if kind == "line":
        return "one non-empty line (surrounding whitespace ignored)"
    if kind == "code":
        return "non-blank Python that `ast.parse` accepts"
    return "non-blank text (blank only when the source text is blank)"


def is_well_formed(info: DatasetInfo, strict_answer: str, doc: Mapping[str, Any] | None = None) -> bool:
    """True if ``strict_answer`` (``normalize(raw)``) has the form of ``info``'s gold answers.

    ``doc`` (the lm-eval doc, with its ``input``) refines two rules: the number of choices of a multiple-choice
    question, and the blank source text of an MT pair. Never raises on a ``str``.
    """
    if not isinstance(strict_answer, str):
        return False
    kind = rule_kind(info)
    if kind == "label":
        return strict_answer in info.labels
    if kind == "choice":
        if not _CHOICE.fullmatch(strict_answer):
            return False
        n_choices = _n_choices(_doc_input(doc) or "")
        # (a long digit string is out of range; int() of over 4300 digits would raise)
        return n_choices is None or (len(strict_answer) <= 4 and int(strict_answer) < n_choices)
    if kind == "number":
        return _NUMBER.fullmatch(strict_answer) is not None
    if kind == "score":
        text = strict_answer.strip()
        return _UNSIGNED.fullmatch(text) is not None and float(text) <= _STS_MAX
    if kind == "lines":
        return _lines_well_formed(info, strict_answer)
    text = strict_answer.strip()
    if kind == "reading":
        return ("\n" not in text and _HIRAGANA.search(text) is not None
                and _NOT_READING.search(text) is None)
    if kind == "line":
        return bool(text) and "\n" not in text
    if kind == "code":
        return bool(text) and _parses(strict_answer)
    source = _doc_input(doc)
    return bool(text) or (source is not None and not source.strip())


def _lines_well_formed(info: DatasetInfo, answer: str) -> bool:
    lines = answer.split("\n")  # set_f1's items
    if info.single_line and len(lines) != 1:
        return False
    pattern = _line_regex(info.line_pattern) if info.line_pattern else None
    for line in lines:
        line = line.strip()
        if not line or (pattern is not None and pattern.fullmatch(line) is None):
            return False
    return True


@functools.lru_cache(maxsize=64)
def _line_regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise ValueError(f"DatasetInfo.line_pattern {pattern!r} is not a valid regular expression ({e}); "
                         f"fix it in the dataset module") from e


def _parses(code: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes etc.: not our business here
        try:
            ast.parse(code)
        except Exception:  # SyntaxError, ValueError, UnicodeEncodeError (lone surrogates), RecursionError, …
            return False
    return True


def _doc_input(doc: Mapping[str, Any] | None) -> str | None:
    """The doc's ``input``; None when there is no doc or it has no text input."""
    try:
        value = doc.get("input") if doc is not None else None
    except Exception:  # not a mapping
        return None
    return value if isinstance(value, str) else None


@functools.lru_cache(maxsize=4096)
def _n_choices(doc_input: str) -> int | None:
    """How many choices "選択肢：0.A,1.B,…" (the input's last such line) lists; None if it lists none (or not
    numbered 0, 1, … in order)."""
    lines = _CHOICES_LINE.findall(unicodedata.normalize("NFKC", doc_input))
    if not lines:
        return None
    numbers = []
    for item in _CHOICE_SPLIT.split(lines[-1].strip()):
        m = _CHOICE_ITEM.match(item)
        if m is None:
            return None
        numbers.append(int(m.group(1)))
    return len(numbers) if numbers == list(range(len(numbers))) else None
