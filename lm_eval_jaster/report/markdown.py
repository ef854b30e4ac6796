"""Markdown helpers: table cells, inline code for answers, fenced blocks, tables and numbers."""

from __future__ import annotations

import re
from typing import Any

from lm_eval_jaster.scores import fixed

NEWLINE_MARK = "↵"


def md_text(text: Any) -> str:
    """Plain text safe in a Markdown table cell or heading: one line, Markdown punctuation backslash-escaped."""
    one_line = re.sub(r"\s*[\r\n]+\s*", " ", str(text))
    return re.sub(r"([\\`*_\[\]<>|~#])", r"\\\1", one_line)


def md_code(text: Any) -> str:
    """Inline code for an answer (not for table cells): newlines drawn as ↵, a backtick fence longer than any run."""
    text = "" if text is None else str(text)
    if not text:
        return "*(empty)*"
    if not text.strip(" "):
        return f"*({len(text)} spaces)*"
    shown = re.sub(r"\r\n|\r|\n", NEWLINE_MARK, text)
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", shown)), default=0) + 1)
    pad = " " if shown[0] in " `" or shown[-1] in " `" else ""  # CommonMark strips one space each side then
    return f"{ticks}{pad}{shown}{pad}{ticks}"


def md_fence(text: str, info: str = "text") -> str:
    """A fenced code block whose backtick fence is longer than any backtick run in the text."""
    ticks = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    body = re.sub(r"\r\n|\r", "\n", text)
    return f"{ticks}{info}\n{body}{'' if body.endswith(chr(10)) else chr(10)}{ticks}"


def md_table(head: list[str], rows: list[list[str]], numeric_from: int) -> list[str]:
    """Table lines; columns from ``numeric_from`` on are right-aligned. Cells must already be escaped."""
    rule = ["---" if i < numeric_from else "---:" for i in range(len(head))]
    return ["| " + " | ".join(cells) + " |" for cells in [head, rule, *rows]]


def num(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else fixed(value, digits)


def signed(value: float, digits: int = 4) -> str:
    return fixed(value, digits, sign=True)
