"""Tests for lm_eval_jaster.wellformed: is the strict answer in the form of the dataset's gold answers?"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lm_eval_jaster.lenient import _parse_choices
from lm_eval_jaster.metrics import normalize, normalize_gold
from lm_eval_jaster.registry import all_datasets, get_dataset
from lm_eval_jaster.wellformed import is_well_formed, rule_description, rule_kind

DATASETS = list(all_datasets())
FREE_TEXT_KINDS = {"line", "text", "code"}  # rules that a short Latin word like "lol" satisfies


# ---------------------------------------------------------------------------
# Every gold answer is well-formed under its own dataset's rule
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATASETS)
def test_every_gold_is_well_formed(jaster_env, name):
    from lm_eval_jaster.data import build_splits

    info = get_dataset(name)
    splits = build_splits(name)
    n = 0
    bad = []
    for split, samples in splits.items():
        for i, sample in enumerate(samples):
            n += 1
            doc = {"input": sample.input, "output": sample.output, "jaster_dataset": name}
            if not is_well_formed(info, normalize_gold(sample.output), doc):
                bad.append((split, i, sample.output[:80]))
    assert n > 0
    assert not bad, f"{len(bad)} of {n} golds of {name} are not well-formed: {bad[:5]}"


@pytest.mark.parametrize("name", ["jcommonsenseqa", "kuci"])
def test_choice_range_comes_from_the_doc(jaster_env, name):
    """On every real question the number of choices is read (and agrees with the lenient parser): the gold is in
    range, the first number past the last choice is not."""
    from lm_eval_jaster.data import build_splits

    info = get_dataset(name)
    for samples in build_splits(name).values():
        for sample in samples:
            doc = {"input": sample.input}
            n_choices = len(_parse_choices(sample.input))
            assert n_choices >= 2, sample.input
            assert is_well_formed(info, str(n_choices - 1), doc)
            assert not is_well_formed(info, str(n_choices), doc), sample.input
    assert is_well_formed(info, "7")  # no doc: any choice number


# ---------------------------------------------------------------------------
# The dummy model's "lol"
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["jamp", "mawps"])
def test_dummy_answer_is_not_well_formed(name):
    assert not is_well_formed(get_dataset(name), normalize("lol"))


@pytest.mark.parametrize("name", DATASETS)
def test_dummy_answer_fails_every_rule_but_free_text(name):
    info = get_dataset(name)
    expected = rule_kind(info) in FREE_TEXT_KINDS
    assert is_well_formed(info, "lol", {"input": "x"}) is expected, rule_kind(info)


def test_free_text_kinds_are_the_expected_datasets():
    free = {name for name, info in all_datasets().items() if rule_kind(info) in FREE_TEXT_KINDS}
    assert free == {"aio", "jemhopqa", "niilc", "jsquad", "alt-e-to-j", "alt-j-to-e", "wikicorpus-e-to-j",
                    "wikicorpus-j-to-e", "xlsum_ja", "mbpp", "jhumaneval"}


# ---------------------------------------------------------------------------
# Hand-picked answers per rule
# ---------------------------------------------------------------------------

CASES = {
    "jamp": {
        True: ["entailment", "contradiction", "neutral"],
        False: [" entailment", "entailment ", "entailment\n", "Entailment", "entailment.", "含意", "", "neutral neutral",
                "entailment\ncontradiction"],
    },
    "janli": {True: ["non-entailment"], False: ["non entailment", "not entailment", "non-entailment "]},
    "jmmlu": {True: ["A", "D"], False: ["a", "E", "A.", "(A)", " A"]},
    "jcola-in-domain": {True: ["0", "1"], False: ["2", "01", " 1", "1.0"]},
    "commonsensemoralja": {True: ["0", "1"], False: ["2", "0 ", "はい"]},
    "mawps": {
        True: ["12", "0", "0.25", "-3", "10.46", "0.166666666666666", normalize("１２"), normalize("０.５")],
        False: ["2.", ".5", "+3", "1,000", "12個", "012", " 12", "12\n", "1e3", "12.0.1", "-", "", "lol", "１２",
                "\u0663", "12 ", "答え: 12"],
    },
    "mgsm": {True: ["18", "1234567"], False: ["18.", "18 ", "十八"]},
    "jsts": {
        True: ["3.2", "3", "0.0", "5.0", "5", " 3.2\n", "4.25"],
        False: ["5.5", "6", "-1", "3.2点", "", " ", "3,2", "類似度: 3.2", "lol", "3.2\n4.0", "05"],
    },
    "chabsa": {
        True: ["売上高 positive", "売上高 positive\n営業利益 negative", "国内 ホテル事業 neutral", " 売上高 positive "],
        False: ["売上高 positive\n", "売上高 ポジティブ", "売上高", "positive", " positive", "売上高 Positive",
                "売上高 positive\n\n", "売上高 positive\n営業利益", "売上高positive"],
    },
    "wiki_dependency": {
        True: ["a -> b", "文節1 -> 文節2\n文節2 -> 文節3", "より -> 一般には ", "a  -> b"],
        False: ["a → b", "a->b", "a -> b\nc", "a ->", "-> b", "a -> b\n", "", "lol"],
    },
    "wiki_pas": {
        True: ["述語 ガ:項", "述語 ガ:項 ヲ:項2 カラ:1970年代", normalize("述語 ガ：項"),
               "なる ガ:Visual Basic .NET ト:後継"],
        False: ["述語", "ガ:項", "述語 ガ:", "述語 ガ: 項", "述語 ガ:項\n述語2", "述語 ガ：項", "述語 ハ:項"],
    },
    "wiki_coreference": {
        True: ["A B", "A B C\nD E", "ISO/IEC 646 国際標準化機構  標準 これ"],
        False: ["A", "A B\nC", "A B\n", "", "lol"],
    },
    "wiki_ner": {
        True: ["東京(地名)", "東京(地名) 日本銀行(組織名)", normalize("東京（地名） 日本（地名）"),
               "Visual Basic(固有物名) VB.NET(固有物名)", "ダッシュ (記号)(固有物名)"],
        False: ["東京(地名)\n日本(地名)", "東京", "東京(場所)", "東京: 地名", "東京(地名)日本(地名)",
                "東京(地名), 日本(地名)", "東京(地名)\n", "(地名)", "lol"],
    },
    "wiki_reading": {
        True: ["とうきょう", "とうきょうたわー", " とうきょう。\n", "ABCはえーびーしー", "じんじゃ・てら", "ひとの々"],
        False: ["トウキョウ", "東京", "とうきょう塔", "lol", "とうきょう\nたわー", "", "  ", "123", "ｔｏｋｙｏ"],
    },
    "jemhopqa": {
        True: ["信濃川", " 信濃川\n", "YES", "lol", "回答：『ファイナルファンタジーXIII』"],
        False: ["信濃川\n長野", "", " \n "],
    },
    "alt-e-to-j": {True: ["博物館は来月開く。", "a\nb"], False: ["", " \n"]},
    "mbpp": {
        True: ["def f(x):\n    return x + 1", "import re\nprint(re.sub('\\d', '', 'a1'))", "lol", "x = 1  "],
        False: ["", "  ", "  def f(): pass", "```python\ndef f(): pass\n```", "def f(:", "a\x00b", "\ud800",
                "(" * 5000, "これは関数です。"],
    },
}


@pytest.mark.parametrize("name, expected, answer",
                         [(n, e, a) for n, cases in CASES.items() for e, answers in cases.items() for a in answers])
def test_hand_picked(name, expected, answer):
    assert is_well_formed(get_dataset(name), answer) is expected


def test_choice_answers():
    info = get_dataset("jcommonsenseqa")
    doc = {"input": "質問：酒池肉林は？\n選択肢：0.金,1.欲望,2.牢屋,3.夢,4.苦行"}
    assert [is_well_formed(info, str(i), doc) for i in range(7)] == [True] * 5 + [False] * 2
    for answer in ["2.", "02", " 2", "2 ", "-1", "２", "2番", "欲望", "1. 欲望", "", "9" * 5000]:
        assert not is_well_formed(info, answer, doc), answer
    assert is_well_formed(info, normalize("２"), doc)
    # choices that hold commas and digits do not confuse the count
    assert not is_well_formed(info, "3", {"input": "質問：q\n選択肢：0.1,000円,1.2人,2.3つ"})
    assert is_well_formed(info, "2", {"input": "質問：q\n選択肢：0.1,000円,1.2人,2.3つ"})
    # an input without a readable choice list: any choice number
    assert is_well_formed(info, "7", {"input": "質問だけ"})
    assert is_well_formed(info, "7", {"input": "選択肢：1.a,2.b"})  # not numbered from 0


def test_mt_blank_answer_only_for_blank_source():
    info = get_dataset("wikicorpus-e-to-j")
    assert not is_well_formed(info, "")
    assert not is_well_formed(info, " ", {"input": "A sentence."})
    assert not is_well_formed(info, "", {})  # a doc without input: unknown source, blank is not an answer
    assert is_well_formed(info, "", {"input": ""})  # WikiCorpus keeps empty pairs; nothing to translate


def test_long_adversarial_answers_are_answered():
    """No regular expression backtracks exponentially on long answers that almost match."""
    cases = {
        "wiki_ner": "a(人名) " * 3000 + "x",
        "wiki_pas": "述語 ガ: " * 3000,
        "wiki_dependency": "a - > " * 3000,
        "wiki_coreference": "a " * 5000 + "\n",
        "chabsa": "売上高 positive" * 2000 + " x",
    }
    for name, answer in cases.items():
        assert not is_well_formed(get_dataset(name), answer)
    assert is_well_formed(get_dataset("wiki_ner"), " ".join(["東京(地名)"] * 3000))


def test_code_parse_warnings_are_silent(recwarn):
    assert is_well_formed(get_dataset("mbpp"), "x = '\\d'\nassert (1, 2)\ny = 1 is 1")
    assert not [w for w in recwarn if issubclass(w.category, SyntaxWarning)]


# ---------------------------------------------------------------------------
# Never raises, for any text (lone surrogates included) and any doc
# ---------------------------------------------------------------------------

_FORMAT_BITS = ["entailment", "neutral", "A", "0", "1", "3.2", "-", "->", " -> ", "(人名)", "(地名)", " ガ:", " ヲ:",
                "positive", " negative", "\n", "\n\n", " ", "　", "選択肢：0.a,1.b", "def f():\n    return 1",
                "とうきょう", "トウキョウ", "東京", "々", "\ud800", "\udfff", "\x00", "９", "\u0663"]
_ANY_TEXT = st.lists(st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from(_FORMAT_BITS),
), max_size=8).map("".join)
_ANY_DOC = st.one_of(st.none(), st.just({}), st.builds(lambda t: {"input": t}, _ANY_TEXT),
                     st.just({"input": 3}), st.just(["not", "a", "mapping"]))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(DATASETS), _ANY_TEXT, _ANY_DOC)
def test_never_raises(name, text, doc):
    info = get_dataset(name)
    assert is_well_formed(info, text, doc) in (True, False)
    assert is_well_formed(info, normalize(text), doc) in (True, False)


def test_non_str_answer_is_not_well_formed():
    assert is_well_formed(get_dataset("jamp"), None) is False  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Declarations and descriptions
# ---------------------------------------------------------------------------


def test_every_set_dataset_declares_its_line_format():
    for name, info in all_datasets().items():
        if info.answer_format in ("pairs", "lines"):
            assert info.line_pattern, f"{name}: answer_format {info.answer_format!r} without line_pattern"
        else:
            assert not info.line_pattern, f"{name}: line_pattern is only read for pairs/lines"


def test_invalid_line_pattern_is_one_clear_error():
    info = dataclasses.replace(get_dataset("wiki_pas"), line_pattern="(unclosed")
    with pytest.raises(ValueError, match=r"line_pattern '\(unclosed' is not a valid regular expression"):
        is_well_formed(info, "述語 ガ:項")


@pytest.mark.parametrize("name", DATASETS)
def test_rule_description_is_one_line(name):
    info = get_dataset(name)
    text = rule_description(info)
    assert text and "\n" not in text and text == text.strip()
    for label in info.labels:
        assert f"`{label}`" in text
    if info.line_pattern:
        assert info.line_pattern in text


def test_module_is_a_leaf():
    code = ("import sys; import lm_eval_jaster.wellformed; "
            "bad = [m for m in sys.modules if m == 'lm_eval' or m.startswith(('lm_eval.', 'lm_eval_jaster.registry', "
            "'lm_eval_jaster.data', 'lm_eval_jaster.metrics', 'lm_eval_jaster.datasets'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_golds_are_compared_after_nfkc():
    """NER/PAS golds are written with full-width brackets and colons; only their NFKC form is well-formed, as a
    model's answer is NFKC-normalised by llm-jp-eval too."""
    ner, pas = get_dataset("wiki_ner"), get_dataset("wiki_pas")
    assert not is_well_formed(ner, "東京（地名）")
    assert is_well_formed(ner, unicodedata.normalize("NFKC", "東京（地名）"))
    assert is_well_formed(pas, unicodedata.normalize("NFKC", "述語　ガ：項"))
