"""Lenient answer extraction: a free-form generation → the gold's format, so the same metrics can score it.

This is NOT llm-jp-eval's scoring. The strict pipeline (:func:`lm_eval_jaster.metrics.normalize`) stays the
reported score; the "lenient" pipeline (:class:`lm_eval_jaster.filters.LenientAnswerFilter`) is reported beside
it. :func:`extract` reads what a model meant (「答え：entailment」, "**2**", "１２個", a bullet list, …) and rewrites
it in the dataset's gold format (``DatasetInfo.answer_format``), with one ``extract_<format>`` per format. Whenever
the answer cannot be found unambiguously, the cleaned text is returned as is, and the metric then fails naturally:
lenient never invents an answer. The rules per format: docs/answers.md#lenient-extraction.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Sequence

__all__ = ["clean", "extract", "extract_label", "extract_choice", "extract_number", "extract_pairs",
           "extract_lines", "extract_text", "extract_reading", "extract_code", "EXTRACTORS"]

# ---------------------------------------------------------------------------
# Common cleanup
# ---------------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_HEAD = r"(?:最終的な答え|最終回答|回答|答え|応答|解答|正解|出力|final answer|answer|output)"
_EMPH = r"(?:\*\*|__)?"
# 「回答：」「**答え:**」「### 応答:」「Answer:」 at the start (NFKC has made every colon ASCII).
_PREFIX = re.compile(rf"^(?:#{{1,6}}[^\S\n]*)?{_EMPH}{_HEAD}{_EMPH}[^\S\n]*:{_EMPH}\s*", re.I)
# A paragraph or first line that only announces the answer: "回答", "**答え：**", "以下が答えです:".
_LEAD_IN = re.compile(rf"(?:#{{1,6}}[^\S\n]*)?{_EMPH}{_HEAD}{_EMPH}[^\S\n]*:?{_EMPH}|[^\n]*:", re.I)
_HEADING = re.compile(r"^#{1,6}[^\S\n]+")
_FENCE = re.compile(r"^```([A-Za-z0-9_+.-]*)[^\S\n]*\n(.*?)(?:\n?```|$)", re.S)
_INLINE_FENCE = re.compile(r"^```(.+?)```", re.S)
_BOLD = re.compile(r"\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*")
_WRAP = re.compile(r"^(\*\*|__|\*)(?=\S)(.+?)(?<=\S)\1$", re.S)
_ALL_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "`": "`", "「": "」", "『": "』"}
# In Wikipedia-derived lines, 「」『』 are content ("「女房役」、 -> 「正妻」、または"): only these are wrappers.
_ASCII_QUOTES = {k: v for k, v in _ALL_QUOTES.items() if k not in "「『"}


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _unquote(s: str, quotes: dict[str, str]) -> str:
    """Remove one pair of quotes around the whole of ``s`` when the inside holds no other such quote."""
    if len(s) >= 2 and (close := quotes.get(s[0])) is not None and s[-1] == close:
        inner = s[1:-1]
        if s[0] not in inner and close not in inner:
            return inner
    return s


def _polish(s: str, quotes: dict[str, str] = _ALL_QUOTES) -> str:
    """Strip wrappers (prefixes, fences, emphasis, quotes, lead-in lines) until nothing changes."""
    for _ in range(12):
        prev = s
        s = s.strip()
        if s.startswith("```"):
            if m := _FENCE.match(s):
                s = m.group(2) if m.group(2).strip() else m.group(1)
            elif m := _INLINE_FENCE.match(s):
                s = m.group(1)
            else:
                s = s[3:]
            s = s.strip()
        elif s.endswith("```") and "```" not in s[:-3]:
            s = s[:-3].rstrip()  # a dangling closing fence
        s = _PREFIX.sub("", s, count=1)
        s = _HEADING.sub("", s, count=1)
        if "**" in s:
            s = _BOLD.sub(r"\1", s)
        if (m := _WRAP.match(s)) and m.group(1) not in m.group(2):
            s = m.group(2)
        s = _unquote(s, quotes)
        first, nl, rest = s.partition("\n")
        if nl and rest.strip() and _LEAD_IN.fullmatch(first.strip()):
            s = rest  # "以下が答えです:\n…"
        if s == prev:
            break
    return s.strip()


def _clean(text: str, quotes: dict[str, str] = _ALL_QUOTES) -> str:
    paragraphs = _BLANK_LINE.split(text.replace("\r\n", "\n").replace("\r", "\n").strip(), maxsplit=6)
    s = ""
    for para in paragraphs[:6]:
        s = _polish(_nfkc(para), quotes)
        # A paragraph that only announces the answer ("回答：", "以下の通りです:") is skipped.
        if s and not _LEAD_IN.fullmatch(s):
            return s
    return s


def clean(text: str) -> str:
    """Common cleanup: first non-empty paragraph, NFKC, trimmed, prefixes/quotes/markdown/fences removed."""
    return _clean(text)


# ---------------------------------------------------------------------------
# label
# ---------------------------------------------------------------------------

_NOT_BEFORE = re.compile(r"(?<![A-Za-z])not\s+$", re.I)
# Japanese words → labels, longest/negated forms first so that 非含意 never counts as 含意.
_JA_LABELS = re.compile(
    "(?P<non_entailment>非含意|含意(?:しない|していない|しません|されない|ではない|でない|ではありません|できない))"
    "|(?P<entailment>含意(?!関係))"
    "|(?P<contradiction>矛盾(?!しない|していない|しません|はない|はありません|がない|ではない|でない))"
    "|(?P<neutral>中立)"
    "|(?P<yes>はい(?!(?![でと])[ぁ-ゖ]))"  # not in ではいけない, とはいえ, 入る
    "|(?P<no>いいえ)"
    "|(?P<unknown>不明|わからない|分からない|わかりません|分かりません)"
    "|(?P<undef>判断できない|判断できません|未定義)"
)


@functools.lru_cache(maxsize=64)
def _label_regex(labels: tuple[str, ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    alts = sorted(labels, key=len, reverse=True)
    body = "|".join(re.escape(label).replace(r"\-", "[-_ ]?") for label in alts)
    keys = {re.sub(r"[-_ ]", "", label.lower()): label for label in labels}
    return re.compile(rf"(?<![A-Za-z0-9_-])(?:{body})(?![A-Za-z0-9_-])", re.I), keys


def extract_label(text: str, labels: Sequence[str]) -> str:
    """The one label mentioned (English first, else Japanese equivalents); ambiguous or none → cleaned text."""
    t = clean(text)
    labels = tuple(labels)
    if not labels:
        return t
    pattern, keys = _label_regex(labels)
    found = set()
    for m in pattern.finditer(t):
        label = keys[re.sub(r"[-_ ]", "", m.group(0).lower())]
        if _NOT_BEFORE.search(t[max(0, m.start() - 8):m.start()]):  # "not entailment"
            label = f"non-{label}"
            if label not in labels:
                continue
        found.add(label)
    if not found:
        for m in _JA_LABELS.finditer(t):
            label = m.lastgroup.replace("_", "-")
            if label in labels:
                found.add(label)
    return found.pop() if len(found) == 1 else t


# ---------------------------------------------------------------------------
# numbers (choice, number)
# ---------------------------------------------------------------------------

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NUM = re.compile(r"(?<![0-9A-Za-z)\]])(-)?(?<![0-9.])(\d+(?:\.\d+)?|\.\d+)")
_AFTER_EXCLUDED = re.compile(r"\s*(?:[〜~]|から\s*-?\d|点?満点|点中|段階)")
_BEFORE_EXCLUDED = re.compile(r"(?:[〜~/]|\dから|満点|最大)\s*$")
_MARKER = re.compile(r"(?:答え|解答|回答|正解|類似度|スコア|結果|合計|全部で|合わせて|answer)\s*(?:は|:|=|が)?|=",
                     re.I)


def _numbers(t: str) -> list[tuple[int, str]]:
    """(position, canonical string) of every number in ``t`` that is not a range end or a scale."""
    out = []
    for m in _NUM.finditer(t):
        if _AFTER_EXCLUDED.match(t, m.end()) or _BEFORE_EXCLUDED.search(t, max(0, m.start() - 8), m.start()):
            continue
        whole, _, frac = m.group(2).partition(".")
        num = (m.group(1) or "") + (whole.lstrip("0") or "0") + ("." + frac if frac else "")
        out.append((m.start(), num))
    return out


def _prepare_numbers(text: str) -> tuple[str, str]:
    t = clean(text)
    return t, _THOUSANDS.sub("", t.replace("\u2212", "-"))


def extract_number(text: str) -> str:
    """The answer's number: the only one; if several, the first after the last marker (答え, =, 類似度…),
    else the last one. Written as is (no rounding: "5.0" stays "5.0"); none → cleaned text."""
    t, s = _prepare_numbers(text)
    nums = _numbers(s)
    if not nums:
        return t
    if len({n for _, n in nums}) == 1:
        return nums[0][1]
    for m in reversed(list(_MARKER.finditer(s))):
        after = [n for pos, n in nums if pos >= m.end()]
        if after:
            return after[0]
    return nums[-1][1]


_CHOICES_LINE = re.compile(r"選択肢\s*:\s*(.*)")
_CHOICE_SPLIT = re.compile(r",(?=\s*\d+\.)")
_CHOICE_ITEM = re.compile(r"\s*(\d+)\.(.*)", re.S)
_ANSWER_IS = re.compile(r"^(?:答え|正解|回答|解答)\s*は\s*:?\s*")
_DESU = re.compile(r"です[^\S\n]*[。.!]?$")  # not である: "吾輩は猫である" is a title
_NUMBERED = re.compile(r"(?:選択肢\s*)?(\d+)(?:\s*(?:[.:)、]|番))?")


def _core(s: str) -> str:
    """``s`` without 「答えは」 before and 「です。」 after (when something remains)."""
    for _ in range(4):
        prev = s
        if (c := _ANSWER_IS.sub("", s, count=1)) and c != s:
            s = _polish(c)
        m = _DESU.search(s)
        if m and (c := s[:m.start()].rstrip()):
            s = _polish(c)
        if s == prev:
            break
    return s


@functools.lru_cache(maxsize=4096)
def _parse_choices(doc_input: str) -> tuple[str, ...]:
    """Choice texts of "選択肢：0.A,1.B,…" (index = number); () if there is none."""
    lines = _CHOICES_LINE.findall(_nfkc(doc_input))
    if not lines:
        return ()
    choices: dict[int, str] = {}
    for item in _CHOICE_SPLIT.split(lines[-1].strip()):
        if m := _CHOICE_ITEM.fullmatch(item):
            choices[int(m.group(1))] = m.group(2).strip()
    if sorted(choices) != list(range(len(choices))):
        return ()
    return tuple(choices[i] for i in range(len(choices)))


def extract_choice(text: str, doc_input: str = "") -> str:
    """The choice number: one number in range ("2", "選択肢2", "答えは２です", "2. 絵本"), or the whole answer
    equal to one choice's text; two numbers, out of range, or a number contradicting its text → cleaned text."""
    t, s = _prepare_numbers(text)
    choices = _parse_choices(doc_input or "")
    n_choices = len(choices) or 5
    # Choice texts that hold digits ("3人") are not number mentions.
    masked = s
    for c in choices:
        if c and any(ch.isdigit() for ch in c):
            masked = masked.replace(c, " ")
    nums = {n for _, n in _numbers(masked)}
    if nums:
        if len(nums) != 1:
            return t
        num = nums.pop()
        if not num.isdigit() or int(num) >= n_choices:
            return t
        if choices and (m := _NUMBERED.match(s)):
            rest = _core(s[m.end():].strip()).rstrip("。.").strip()
            if rest in choices and choices.index(rest) != int(num):
                return t  # "2. 欲望" where 欲望 is choice 1
        return str(int(num))
    core = _core(s).rstrip("。.!").strip()
    if core and choices.count(core) == 1:
        return str(choices.index(core))
    return t


# ---------------------------------------------------------------------------
# pairs (chABSA)
# ---------------------------------------------------------------------------

_POLARITY = {"positive": "positive", "negative": "negative", "neutral": "neutral", "ポジティブ": "positive",
             "肯定的": "positive", "肯定": "positive", "正": "positive", "ネガティブ": "negative",
             "否定的": "negative", "否定": "negative", "負": "negative", "ニュートラル": "neutral",
             "中立的": "neutral", "中立": "neutral"}
_POL = "|".join(sorted(_POLARITY, key=len, reverse=True))
_PAIR = re.compile(
    rf"(?P<t>.+?)(?:\s*(?:[:=]|[-–—]{{1,3}}>?|→|⇒|は)\s*|\s+|\s*(?=[(\[【]))"
    rf"[(\[【]?\s*(?P<p>{_POL})\s*[)\]】]?\s*(?:です|である)?\s*[。.]?", re.I)
_MAX_PAIR = 200  # a longer item is prose, not "target polarity" (and keeps the lazy match linear enough)
_ITEM_SEP = re.compile(r"[,、;]")
_BULLET = re.compile(r"^\s*(?:[-*+]\s+|[•・●○◦▪■□]\s*|\d{1,3}[.)](?!\d)\s*|\(\d{1,3}\)\s*)+")
_TARGET_TAIL = re.compile(r"[\s:=(\[【\-–—>→⇒]+$")


def _pair(item: str) -> tuple[str, str] | None:
    item = item.strip()
    if len(item) > _MAX_PAIR:
        return None
    m = _PAIR.fullmatch(item)
    if not m:
        return None
    target = _polish(_TARGET_TAIL.sub("", _polish(m.group("t"))))
    if not target:
        return None
    return target, _POLARITY[m.group("p").lower()]


def _line_pairs(line: str) -> list[tuple[str, str]]:
    line = line.strip()
    if line.startswith("|") and line.endswith("|"):  # markdown table row | 売上高 | positive |
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 2 and (p := _POLARITY.get(_polish(cells[1]).lower())) and (tgt := _polish(cells[0])):
            return [(tgt, p)]
        return []
    line = _polish(_BULLET.sub("", line, count=1))
    pieces = [p for p in _ITEM_SEP.split(line) if p.strip()]
    if len(pieces) > 1:
        found = [_pair(_BULLET.sub("", p, count=1)) for p in pieces]
        if all(found):
            return found  # "売上高: positive, 営業利益: negative"
    one = _pair(line)
    return [one] if one else []


def extract_pairs(text: str) -> str:
    """Target–polarity pairs → "target polarity" lines (order kept, duplicates dropped); none → cleaned text."""
    t = clean(text)
    out: list[str] = []
    for line in t.split("\n"):
        for target, polarity in _line_pairs(line):
            pair = f"{target} {polarity}"
            if pair not in out:
                out.append(pair)
    return "\n".join(out) if out else t


# ---------------------------------------------------------------------------
# lines (wiki_ner, wiki_dependency, wiki_pas, wiki_coreference)
# ---------------------------------------------------------------------------

_LINE_BULLET = re.compile(r"^\s*(?:[-*+•]\s+|[・●○◦▪■□]\s*|\d{1,3}[.)]\s+|\(\d{1,3}\)\s*)+")
_ARROW = re.compile(r"→|=>|⇒")
_NE_TYPE = "組織名|人名|地名|固有物名|日付表現|時刻表現|金額表現|割合表現"
_NE_ALT = re.compile(rf"(?:[:：]|[-–—]{{1,3}}|[\[【]|\s\()\s*({_NE_TYPE})\s*[\]】)]?$")  # 東京: 地名 → 東京(地名)
# An entity never spans a "(type)", so a line splits into items in one way only (no backtracking blow-up).
_NE_ITEM = rf"[^\s(](?:(?!\((?:{_NE_TYPE})\))[^\n])*?\((?:{_NE_TYPE})\)"
_NE_SEQ = re.compile(rf"{_NE_ITEM}(?:(?:\s*[、,]\s*|\s+){_NE_ITEM})*")
_CASE_COLON = re.compile(r"(\s[ァ-ヴー]{1,3}):[^\S\n]+(?=\S)")  # wiki_pas "ガ: 項" → "ガ:項"


def _clean_line(line: str) -> str:
    """One line without bullets/quotes/markdown; an unchanged line keeps its inner and trailing spaces."""
    s = line.lstrip()
    for _ in range(6):
        prev = s
        stripped = _polish(_LINE_BULLET.sub("", s, count=1), _ASCII_QUOTES)
        if stripped != s.strip():
            s = stripped
        if "->" not in s and len(parts := _ARROW.split(s)) == 2:
            s = f"{parts[0].rstrip()} -> {parts[1].lstrip()}".strip()  # 係り元 → 係り先
        if ":" in s:
            s = _CASE_COLON.sub(r"\1:", s)
        if s == prev:
            break
    return s


_NE_COMMA = re.compile(rf"(\((?:{_NE_TYPE})\))\s*[、,]\s*")


def _ne_alt(s: str) -> str:
    m = _NE_ALT.search(s)
    return f"{s[:m.start()].rstrip()}({m.group(1)})" if m and s[:m.start()].strip() else s


def _ne_lines(lines: list[str]) -> str | None:
    """wiki_ner's one-line gold layout if every line is named entities ("X(組織名)", "X: 組織名"), else None."""
    ne = [_ne_alt(x.strip()) for x in lines]
    if not all(_NE_SEQ.fullmatch(x) for x in ne):
        return None
    if len(ne) == 1 and ne[0] == lines[0].strip() and not _NE_COMMA.search(ne[0]):
        return None  # already in the gold layout: keep as written
    return " ".join(_NE_COMMA.sub(r"\1 ", x).strip() for x in ne)


def extract_lines(text: str) -> str:
    """Lines without bullets/quotes/markdown, empty ones dropped. Lines that are all named entities
    are joined with spaces, as wiki_ner's gold is one line "X(組織名) Y(人名)"."""
    t = _clean(text, _ASCII_QUOTES)
    lines = [c for c in (_clean_line(x) for x in t.split("\n") if x.strip()) if c.strip()]
    if lines and (ne := _ne_lines(lines)) is not None:
        return ne
    return "\n".join(lines).rstrip()


# ---------------------------------------------------------------------------
# text, reading
# ---------------------------------------------------------------------------

_YES_NO = {"はい": "YES", "いいえ": "NO"}


def extract_text(text: str) -> str:
    """:func:`clean`, without 「答えは…です。」; はい/いいえ → YES/NO when that is the whole answer."""
    t = _core(clean(text))
    return _YES_NO.get(t.rstrip("。.!"), t)


def extract_reading(text: str) -> str:
    """:func:`clean`, then the kana normaliser of wiki_reading."""
    from lm_eval_jaster.kana import normalize_reading  # lazy: fugashi is heavy

    return normalize_reading(clean(text))


# ---------------------------------------------------------------------------
# code (mbpp, jhumaneval)
# ---------------------------------------------------------------------------

_CODE_FENCE = re.compile(r"^[^\S\n]*```[^\S\n]*[A-Za-z0-9_+.-]*[^\S\n]*\n(.*?)(?:^[^\S\n]*```|\Z)", re.S | re.M)
_LEADING_BLANK_LINES = re.compile(r"\A(?:[^\S\n]*\n)+")


def extract_code(text: str) -> str:
    """The code in a free-form answer: the first ``` fenced block (language tag and closing fence optional) if
    there is one, else the text before the first "\\n\\n" once leading blank lines are dropped; NFKC (as the
    strict reading); an indentation shared by every line removed. Nothing else is touched, so an answer already
    in the expected format (plain code) reads exactly as llm-jp-eval reads it."""
    t = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    m = _CODE_FENCE.search(t)
    code = m.group(1).rstrip("\n") if m else _LEADING_BLANK_LINES.sub("", t).split("\n\n")[0]
    lines = [line for line in code.split("\n") if line.strip()]
    if lines and all(line[0] in " \t" for line in lines):
        import textwrap

        code = textwrap.dedent(code)
    return code


# ---------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------

EXTRACTORS = {
    "label": lambda text, labels, doc: extract_label(text, labels),
    "choice": lambda text, labels, doc: extract_choice(text, (doc or {}).get("input", "")),
    "number": lambda text, labels, doc: extract_number(text),
    "pairs": lambda text, labels, doc: extract_pairs(text),
    "lines": lambda text, labels, doc: extract_lines(text),
    "reading": lambda text, labels, doc: extract_reading(text),
    "text": lambda text, labels, doc: extract_text(text),
    "code": lambda text, labels, doc: extract_code(text),
}


def extract(text: str, answer_format: str, labels: Sequence[str] = (), doc: dict | None = None) -> str:
    """The answer in ``text`` written in the gold format of ``answer_format`` (DatasetInfo.answer_format)."""
    try:
        extractor = EXTRACTORS[answer_format]
    except KeyError:
        raise ValueError(f"unknown answer format {answer_format!r}; known: {', '.join(EXTRACTORS)}") from None
    return extractor(text, labels, doc)
