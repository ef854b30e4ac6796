"""Tests for lm_eval_jaster.kana: the lenient (diagnostic) kana view of wiki_reading answers."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lm_eval_jaster import kana
from lm_eval_jaster.kana import has_kanji, katakana_to_hiragana, normalize_reading, reading
from lm_eval_jaster.metrics import char_f1, normalize, normalize_gold

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
WAC_DIR = DATA_DIR / "wikipedia_annotated_corpus"

SENTENCE = "戦死とは、軍人が戦争により死亡すること。"
SENTENCE_READING = "せんしとは、ぐんじんがせんそうによりしぼうすること。"
SENTENCE_KATAKANA = "センシトハ、グンジンガセンソウニヨリシボウスルコト。"


# ---------------------------------------------------------------------------
# katakana_to_hiragana / has_kanji
# ---------------------------------------------------------------------------


def test_katakana_to_hiragana_full_range():
    assert katakana_to_hiragana("アイウエオァィゥェォッャュョヮ") == "あいうえおぁぃぅぇぉっゃゅょゎ"
    assert katakana_to_hiragana("ガギグゲゴパピプペポ") == "がぎぐげごぱぴぷぺぽ"
    assert katakana_to_hiragana("ヴ") == "ゔ"
    assert katakana_to_hiragana("ヵヶ") == "ゕゖ"
    assert katakana_to_hiragana("ヰヱヲン") == "ゐゑをん"


def test_katakana_to_hiragana_keeps_other_characters():
    assert katakana_to_hiragana("コンピューター・ゲーム") == "こんぴゅーたー・げーむ"  # ー and ・ kept
    assert katakana_to_hiragana("ひらがな漢字ABC 123、。") == "ひらがな漢字ABC 123、。"
    assert katakana_to_hiragana("ヷヸヹヺヽヾ") == "ヷヸヹヺヽヾ"  # no hiragana counterpart
    assert katakana_to_hiragana("ｾﾝｼ") == "ｾﾝｼ"  # half-width: NFKC first (normalize_reading does)
    assert katakana_to_hiragana("") == ""


def test_has_kanji():
    assert has_kanji("せんし戦")
    assert has_kanji("人々") and has_kanji("々")
    assert not has_kanji("センシとは、ABC 123")
    assert not has_kanji("")


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------


def test_reading_real_sentence():
    assert reading(SENTENCE) == SENTENCE_READING


@pytest.mark.parametrize(
    "text, expected",
    [
        ("コンピュータ会社", "こんぴゅーたかいしゃ"),  # katakana read too, in hiragana
        ("関ヶ原の戦い", "せきがはらのたたかい"),
        ("3ヶ月以内", "3かげついない"),
        ("人々", "ひとびと"),
        ("ABCは2020年に設立された", "ABCは2020ねんにせつりつされた"),  # ASCII and digits kept
        ("grammatical　categoryの対訳語", "grammatical　categoryのたいやくご"),  # whitespace kept
        ("東京\nタワー", "とうきょう\nたわー"),
        (" 漢字 ", " かんじ "),
        ("", ""),
    ],
)
def test_reading(text, expected):
    assert reading(text) == expected


def test_reading_keeps_hiragana_tokens():
    # unidic would read は as ワ (pron) / ハ (kana) and を as ヲ; the surface of pure-hiragana tokens is kept.
    assert reading("ことはをした") == "ことはをした"
    assert reading(SENTENCE_READING) == SENTENCE_READING


def test_reading_unknown_katakana_word_falls_back_to_surface():
    assert reading("クルンテープマハーナコーンとは") == "くるんてーぷまはーなこーんとは"


def test_import_is_cheap_and_tagger_cached():
    code = "import sys, lm_eval_jaster.kana as k; assert 'fugashi' not in sys.modules; k.reading('漢字'); " \
           "assert 'fugashi' in sys.modules; t = k._get_tagger(); k.reading('東京'); assert k._get_tagger() is t"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------
# normalize_reading: the kana view forgives script, never reads kanji
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        (SENTENCE, SENTENCE),  # kanji are never read: the answer stays as written (and fails the metric)
        (SENTENCE_KATAKANA, SENTENCE_READING),  # katakana answer
        ("センシトハ", "せんしとは"),
        ("せんしとは、軍人がセンソウによりしぼうすること。", "せんしとは、軍人がせんそうによりしぼうすること。"),
        ("東京タワー", "東京たわー"),
        ("ｾﾝｼ", "せんし"),  # half-width katakana: NFKC first
        ("ＡＢＣ１２３と2020ねん", "ABC123と2020ねん"),  # NFKC; ASCII and digits kept
        ("  せんしとは。\n", "せんしとは。"),  # trimmed
        ("せんしとは。\n\n### 入力:\n戦争", "せんしとは。"),  # continuation cut at the first blank line
        ("せんしとは。\nぐんじん", "せんしとは。\nぐんじん"),  # a single newline is not a cut
        ("\n\nせんし", ""),
        ("", ""),
        ("\ud800", "\ud800"),  # a lone surrogate (issue #12) is kept, not an error
    ],
)
def test_normalize_reading(raw, expected):
    assert normalize_reading(raw) == expected


def test_normalize_reading_correct_hiragana_answer_is_identical():
    gold = "にんしょうとは、ぶんぽうのようごで、grammatical categoryのたいやくご「ぶんぽうはんちゅう」のいっしゅである。"
    assert normalize_reading(gold) == gold
    assert normalize_reading(SENTENCE_READING) == SENTENCE_READING


def test_normalize_reading_never_uses_the_dictionary(monkeypatch):
    def boom(text):
        raise AssertionError("the kana view must not read kanji with the dictionary")

    monkeypatch.setattr(kana, "reading", boom)
    monkeypatch.setattr(kana, "_get_tagger", boom)
    assert normalize_reading("ニッポンとはをした") == "にっぽんとはをした"
    assert normalize_reading(SENTENCE) == SENTENCE


def test_kana_view_does_not_import_fugashi():
    code = ("import sys, lm_eval_jaster.kana as k, lm_eval_jaster.lenient as l; "
            "k.normalize_reading('戦死とはセンシ'); l.extract('回答：戦死とはセンシ', 'reading'); "
            "assert 'fugashi' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_katakana_answer_scores_as_hiragana_and_kanji_answer_as_strict():
    gold = normalize_gold(SENTENCE_READING)
    strict = char_f1(normalize(SENTENCE_KATAKANA), gold)
    lenient = char_f1(normalize_reading(SENTENCE_KATAKANA), gold)
    assert lenient > strict
    assert lenient == 1.0
    # a correct hiragana answer scores the same in both views
    assert char_f1(normalize_reading(SENTENCE_READING), gold) == char_f1(normalize(SENTENCE_READING), gold) == 1.0
    # an answer that copies the (kanji) input earns nothing more in the kana view
    assert char_f1(normalize_reading(SENTENCE), gold) == char_f1(normalize(SENTENCE), gold) < 0.5


# ---------------------------------------------------------------------------
# Never raises (issue #12: a lone surrogate aborted a whole run)
# ---------------------------------------------------------------------------

_PIECES = ["戦死", "センシ", "せんし", "ｾﾝｼ", "\n", "\n\n", " ", "回答：", "**", "```", "「", "」", "々", "ー",
           "\ud800", "\udfff", "\x00", "\r"]
ANY_TEXT = st.lists(st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from(_PIECES),
), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_kana_view_never_raises(text):
    from lm_eval_jaster.lenient import extract, extract_reading

    out = normalize_reading(text)
    assert isinstance(out, str)
    assert normalize_reading(out) == out  # idempotent
    assert not any("\u30a1" <= ch <= "\u30f6" for ch in out)  # no katakana that has a hiragana form is left
    assert has_kanji(out) == has_kanji(unicodedata.normalize("NFKC", text.split("\n\n")[0]))  # kanji stay
    assert isinstance(extract_reading(text), str)
    assert isinstance(extract(text, "reading"), str)


# ---------------------------------------------------------------------------
# Real wiki_reading samples (dev) and golds (every split)
# ---------------------------------------------------------------------------


def _to_katakana(text: str) -> str:
    return "".join(chr(ord(ch) + 0x60) if "\u3041" <= ch <= "\u3096" else ch for ch in text)


@pytest.fixture(scope="module")
def wiki_reading_dev(jaster_env):
    from lm_eval_jaster.data import build_splits

    samples = build_splits("wiki_reading")["dev"]
    assert len(samples) == 100
    return samples


def test_copying_the_input_earns_nothing_for_its_kanji(wiki_reading_dev):
    """An answer that copies the input: the kana view forgives only its script. It scores exactly what the copy
    with its katakana written in hiragana scores strictly, so no more than strict scoring where the input has no
    katakana, and far below the dictionary baseline (about 0.93) on average."""
    kana_scores, strict_scores = [], []
    for sample in wiki_reading_dev:
        gold = normalize_gold(sample.output)
        copy = sample.input
        kana_view = char_f1(normalize_reading(copy), gold)
        strict = char_f1(normalize(copy), gold)
        assert kana_view == char_f1(katakana_to_hiragana(normalize(copy)), gold), sample.input[:60]
        if not any("\u30a1" <= ch <= "\u30fa" for ch in unicodedata.normalize("NFKC", copy)):
            assert kana_view <= strict, sample.input[:60]
        kana_scores.append(kana_view)
        strict_scores.append(strict)
    assert sum(kana_scores) / len(kana_scores) < 0.5
    assert sum(strict_scores) / len(strict_scores) < 0.5


def test_correct_reading_in_katakana_scores_as_in_hiragana(wiki_reading_dev):
    for sample in wiki_reading_dev:
        gold = normalize_gold(sample.output)
        katakana = _to_katakana(sample.output)
        assert katakana != sample.output
        assert char_f1(normalize_reading(katakana), gold) == char_f1(normalize_reading(sample.output), gold) == 1.0
        assert char_f1(normalize(katakana), gold) < 1.0  # strict scoring does not forgive the script


# ---------------------------------------------------------------------------
# Through the lenient pipeline of wiki_reading
# ---------------------------------------------------------------------------


def test_lenient_pipeline_of_wiki_reading_uses_the_kana_view():
    from lm_eval_jaster.filters import LenientAnswerFilter

    doc = {"input": "戦死", "output": "せんし", "jaster_dataset": "wiki_reading"}
    out = LenientAnswerFilter().apply([["センシ", "戦死\n\nつづき"], ["  ｾﾝｼ  "], []], [doc, doc, doc])
    assert out == [["せんし", "戦死"], ["せんし"], []]
    assert out[0][1].strict == "戦死"


@pytest.mark.skipif(not (WAC_DIR / "id" / "dev.id").is_file(), reason=f"raw-data mirror not found at {WAC_DIR}")
def test_gold_readings_unchanged(monkeypatch, tmp_path):
    """Gold outputs are hiragana readings: the lenient normaliser must leave them alone (NFKC + strip aside)."""
    from lm_eval_jaster.data import build_splits

    monkeypatch.setenv("JASTER_CACHE_DIR", str(tmp_path))
    splits = build_splits("wiki_reading", DATA_DIR)
    golds = [s.output for split in ("train", "dev", "test") for s in splits[split]]
    assert len(golds) > 1000
    changed = [g for g in golds if normalize_reading(g) != unicodedata.normalize("NFKC", g).strip()]
    assert not changed, changed[:5]
