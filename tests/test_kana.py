"""Tests for lm_eval_jaster.kana: the lenient (diagnostic) kana view of wiki_reading answers."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from lm_eval_jaster import kana
from lm_eval_jaster.kana import KanaReadingFilter, has_kanji, katakana_to_hiragana, normalize_reading, reading
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
# normalize_reading
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        (SENTENCE, SENTENCE_READING),  # all kanji left: read by the dictionary
        (SENTENCE_KATAKANA, SENTENCE_READING),  # katakana answer
        ("センシトハ", "せんしとは"),
        ("せんしとは、軍人がセンソウによりしぼうすること。", SENTENCE_READING),  # mixed scripts
        ("ｾﾝｼ", "せんし"),  # half-width katakana: NFKC first
        ("ＡＢＣ１２３と2020ねん", "ABC123と2020ねん"),  # NFKC; ASCII and digits kept
        ("  せんしとは。\n", "せんしとは。"),  # trimmed
        ("せんしとは。\n\n### 入力:\n戦争", "せんしとは。"),  # continuation cut at the first blank line
        ("せんしとは。\nぐんじん", "せんしとは。\nぐんじん"),  # a single newline is not a cut
        ("\n\nせんし", ""),
        ("", ""),
    ],
)
def test_normalize_reading(raw, expected):
    assert normalize_reading(raw) == expected


def test_normalize_reading_correct_hiragana_answer_is_identical():
    gold = "にんしょうとは、ぶんぽうのようごで、grammatical categoryのたいやくご「ぶんぽうはんちゅう」のいっしゅである。"
    assert normalize_reading(gold) == gold
    assert normalize_reading(SENTENCE_READING) == SENTENCE_READING


def test_normalize_reading_pure_kana_not_reread(monkeypatch):
    def boom(text):
        raise AssertionError("reading() must not be called on kanji-free text")

    monkeypatch.setattr(kana, "reading", boom)
    assert normalize_reading("ニッポンとはをした") == "にっぽんとはをした"


def test_lenient_view_scores_higher_than_strict_for_katakana_answer():
    gold = normalize_gold(SENTENCE_READING)
    strict = char_f1(normalize(SENTENCE_KATAKANA), gold)
    lenient = char_f1(normalize_reading(SENTENCE_KATAKANA), gold)
    assert lenient > strict
    assert lenient == 1.0
    # a correct hiragana answer scores the same in both views
    assert char_f1(normalize_reading(SENTENCE_READING), gold) == char_f1(normalize(SENTENCE_READING), gold) == 1.0


# ---------------------------------------------------------------------------
# KanaReadingFilter
# ---------------------------------------------------------------------------


def test_filter_shape():
    resps = [["センシ", "戦死\n\nつづき"], ["  ｾﾝｼ  "], []]
    out = KanaReadingFilter().apply(resps, docs=[{}, {}, {}])
    assert out == [["せんし", "せんし"], ["せんし"], []]


def test_filter_accepts_kwargs():
    f = KanaReadingFilter(unused="x")
    assert f.apply([["カナ"]], [None]) == [["かな"]]


# ---------------------------------------------------------------------------
# Real wiki_reading gold readings
# ---------------------------------------------------------------------------


@pytest.mark.skipif(not (WAC_DIR / "id" / "dev.id").is_file(), reason=f"raw-data mirror not found at {WAC_DIR}")
def test_gold_readings_unchanged(monkeypatch, tmp_path):
    """Gold outputs are hiragana readings: the lenient normaliser must leave them alone (NFKC + strip aside)."""
    from lm_eval_jaster.data import build_splits

    monkeypatch.setenv("JASTER_CACHE_DIR", str(tmp_path))
    splits = build_splits("wiki_reading", DATA_DIR)
    golds = [s.output for split in ("train", "dev", "test") for s in splits[split]]
    assert len(golds) > 1000
    changed = [g for g in golds if normalize_reading(g) != unicodedata.normalize("NFKC", g).strip()]
    # All 1817 pass today (one gold holds a stray 々, which is re-read but has no reading of its own).
    assert len(changed) <= len(golds) // 100, changed[:5]
