"""Tests for lm_eval_jaster.metrics (llm-jp-eval v1.3.0/v1.4.1 scoring, bit-exact)."""

from __future__ import annotations

import json
import math
import random
import warnings

import pytest

from lm_eval_jaster import metrics
from lm_eval_jaster.metrics import (
    char_f1,
    exact_match,
    normalize,
    normalize_gold,
    parse_float,
    pearson,
    pearson_aggregation,
    set_f1,
    spearman,
    spearman_aggregation,
)
from lm_eval_jaster.scoring import process_results


def test_all_exports_exist():
    for name in metrics.__all__:
        assert callable(getattr(metrics, name)), name


# ---------------------------------------------------------------------------
# normalize / normalize_gold / exact_match
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("ＥＮＴＡＩＬＭＥＮＴ", "ENTAILMENT"),  # full-width Latin -> ASCII
        ("１２３", "123"),  # full-width digits
        ("ｴﾝﾀｲﾙ", "エンタイル"),  # half-width katakana -> full-width
        ("ｶﾞｯｺｳ", "ガッコウ"),  # half-width dakuten is composed
        ("entailment\n", "entailment\n"),  # single trailing newline is kept
        ("entailment\n\n### 入力:\n次の文", "entailment"),  # continuation cut at first blank line
        ("\n\nentailment", ""),  # output starting with a blank line -> empty
        ("", ""),
        ("\n\n\n", ""),
        ("a\n\n\nb", "a"),
        ("a\r\n\r\nb", "a\r\n\r\nb"),  # CRLF blank line is not "\n\n"
        (" entailment", " entailment"),  # no strip
        ("entailment ", "entailment "),
        ("「はい」。", "「はい」。"),  # Japanese punctuation is not compatibility-mapped
        ("はい，いいえ！", "はい,いいえ!"),  # full-width comma / exclamation -> ASCII
        ("ﾘﾝｺﾞ･ﾐｶﾝ", "リンゴ・ミカン"),  # half-width middle dot
        ("１０～２０", "10~20"),
        ("㍻", "平成"),
        ("①", "1"),
        ("\u3000答え", " 答え"),  # ideographic space -> ASCII space
        ("a\nb\nc", "a\nb\nc"),  # single newlines are kept (set_f1 lists)
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_normalize_is_idempotent():
    for raw in ["ＥＮＴＡＩＬＭＥＮＴ\n\nfoo", "ｴﾝﾀｲﾙ", "a\nb", " x ", "１０～２０"]:
        assert normalize(normalize(raw)) == normalize(raw)


def test_normalize_gold_is_nfkc_only():
    assert normalize_gold("ＥＮＴＡＩＬＭＥＮＴ") == "ENTAILMENT"
    assert normalize_gold("ｴﾝﾀｲﾙ") == "エンタイル"
    assert normalize_gold("a\n\nb") == "a\n\nb"  # golds are not cut
    assert normalize_gold(" a \n") == " a \n"  # nor stripped


@pytest.mark.parametrize(
    "raw_pred, gold, expected",
    [
        ("ＥＮＴＡＩＬＭＥＮＴ", "ENTAILMENT", 1.0),
        ("ENTAILMENT", "ＥＮＴＡＩＬＭＥＮＴ", 1.0),
        ("entailment", "ENTAILMENT", 0.0),  # case-sensitive
        ("ｴﾝﾀｲﾙ", "エンタイル", 1.0),
        ("entailment\n", "entailment", 0.0),
        ("entailment\n\n### 入力:\nfoo", "entailment", 1.0),
        ("\n\nentailment", "entailment", 0.0),
        ("", "entailment", 0.0),
        ("", "", 1.0),
        (" entailment", "entailment", 0.0),
        ("はい，", "はい,", 1.0),
        ("はい、", "はい,", 0.0),  # "、" is not NFKC-equivalent to ","
        ("5", "5.0", 0.0),
        ("５", "5", 1.0),
    ],
)
def test_exact_match(raw_pred, gold, expected):
    value = exact_match(normalize(raw_pred), normalize_gold(gold))
    assert value == expected
    assert isinstance(value, float)


# ---------------------------------------------------------------------------
# char_f1
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pred, gold, expected",
    [
        ("東京都", "東京都", 1.0),
        ("", "", 1.0),  # equality is checked before emptiness
        ("。", "!?", 1.0),  # both process to "" -> equal -> 100
        ("", "東京", 0.0),
        ("東京", "", 0.0),
        ("。", "東京", 0.0),  # one processes to ""
        ("りんご、みかん", "みかん、りんご", 1.0),  # "、" is a separator, tokens sorted
        ("東京　大阪", "大阪 東京", 1.0),  # ideographic space separates tokens
        ("織田信長", "織田 信長", 0.44),  # sorted -> "信長 織田" vs "織田信長": LCS 2 -> 4/9 -> 44
        ("ABC", "abc", 1.0),  # lower-cased
        ("Tokyo", "TOKYO.", 1.0),  # punctuation stripped
        ("café", "caf", 1.0),  # Latin-1 (U+00E9) dropped
        ("3×4", "34", 1.0),  # U+00D7 dropped
        ("über", "ber", 1.0),
        ("１２", "12", 0.0),  # full-width digits are NOT Latin-1 and are not folded
        ("東京都", "東京", 0.8),  # 2*2/5
        ("a_b", "a b", 0.67),  # "_" is a word char: "a_b" vs "a b" -> 4/6
        ("abcdefgh", "abcdefgx", 0.88),  # 100*14/16 = 87.5 -> round half to even -> 88
        ("abcdefgh", "abcdexyz", 0.62),  # 100*10/16 = 62.5 -> 62
        ("abcdefgh", "abcxyzuv", 0.38),  # 100*6/16 = 37.5 -> 38
        ("abcdefgh", "axxxxxxx", 0.12),  # 100*2/16 = 12.5 -> 12
        ("abcd", "abce", 0.75),
    ],
)
def test_char_f1_hand_checked(pred, gold, expected):
    value = char_f1(pred, gold)
    assert value == expected
    assert isinstance(value, float)


def test_char_f1_float_rounding_artifact():
    # Levenshtein.ratio (rapidfuzz backend) = 1 - 46/80 = 0.42500000000000004, so 100*r rounds to 43,
    # although the exact value 42.5 would round (half to even) to 42. Pinned to the reference behaviour.
    a = "a" * 17 + "b" * 23
    b = "a" * 17 + "c" * 23
    assert char_f1(a, b) == 0.43
    # 1 - 6/80 -> 92.5 exactly -> 92; 1 - 2/80 -> 97.5 -> 98
    assert char_f1("a" * 37 + "b" * 3, "a" * 37 + "c" * 3) == 0.92
    assert char_f1("a" * 39 + "b", "a" * 39 + "c") == 0.98


def test_char_f1_is_symmetric_on_examples():
    for a, b in [("東京都", "東京"), ("abc def", "def"), ("りんご", "りんごとみかん")]:
        assert char_f1(a, b) == char_f1(b, a)


# --- parity against the real fuzzywuzzy 0.18.0 + python-Levenshtein --------------------------------


def _reference():
    fuzzywuzzy = pytest.importorskip("fuzzywuzzy")
    pytest.importorskip("Levenshtein")
    from fuzzywuzzy import fuzz
    from fuzzywuzzy.StringMatcher import StringMatcher

    assert fuzzywuzzy.__version__ == "0.18.0"
    assert fuzz.SequenceMatcher is StringMatcher  # the Levenshtein backend, not difflib
    return fuzz


_KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげござじずぜぞっゃゅょー"
_KATA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンガギグゲゴッャュョ"
_KANJI = "東京大阪都府県市区町村日本人年月日時分学校会社山川田中花火水木金土語答問題正解"
_ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
_FULL = "ＡＢＣａｂｃ０１２３ｱｲｳｶﾞ･，！？（）"
_LATIN1 = "éüàçñßÉÜ×÷°±µ¿¡«»\u00a0"
_PUNCT = "、。「」・,.!?()[]-:;'\"/〜ー…『』【】"
_SPACE = [" ", " ", "\u3000", "\n", "\t", "\n\n"]
_EXTRA = "İΣσςﬁẞ\u0301"  # lower() that changes length, final sigma, ligature, combining mark

_POOLS = [
    (_KANA, 5),
    (_KATA, 2),
    (_KANJI, 4),
    (_ASCII, 4),
    (_FULL, 1),
    (_LATIN1, 1),
    (_PUNCT, 2),
    (_SPACE, 2),
    (_EXTRA, 0.3),
]


def _random_text(rng: random.Random, max_len: int) -> str:
    pools, weights = zip(*_POOLS)
    n = rng.randint(0, max_len)
    return "".join(rng.choice(rng.choices(pools, weights)[0]) for _ in range(n))


def _mutate(rng: random.Random, s: str) -> str:
    chars = list(s)
    for _ in range(rng.randint(0, 4)):
        op = rng.random()
        pos = rng.randint(0, len(chars))
        if op < 0.4:
            chars.insert(pos, _random_text(rng, 2))
        elif op < 0.7 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif chars:
            chars[min(pos, len(chars) - 1)] = _random_text(rng, 1)
    out = "".join(chars)
    if rng.random() < 0.3:  # reorder tokens
        tokens = out.split()
        rng.shuffle(tokens)
        out = rng.choice([" ", "、", "\u3000", ","]).join(tokens)
    return out


def _random_pairs(n: int, seed: int = 20240601):
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        a = _random_text(rng, rng.choice([3, 10, 30, 60]))
        kind = i % 3
        if kind == 0:
            b = _random_text(rng, rng.choice([3, 10, 30, 60]))  # unrelated
        elif kind == 1:
            b = _mutate(rng, a)  # near-duplicate
        else:
            b = a + _random_text(rng, 5) if rng.random() < 0.5 else a[: rng.randint(0, len(a))]
        pairs.append((a, b))
    return pairs


def test_char_f1_parity_random():
    fuzz = _reference()
    pairs = _random_pairs(3000)
    scores = set()
    mismatches = []
    for a, b in pairs:
        expected = fuzz.token_sort_ratio(a, b) / 100
        got = char_f1(a, b)
        scores.add(got)
        if got != expected:
            mismatches.append((a, b, got, expected))
    assert not mismatches, mismatches[:10]
    # the sample exercises the whole range, not only 0 and 1
    assert len(scores) > 60
    assert 0.0 in scores and 1.0 in scores


def test_char_f1_parity_half_boundaries():
    # every (lensum, distance) pair whose 100*ratio is exactly or nearly x.5, for lensum up to 200
    fuzz = _reference()
    checked = 0
    for lensum in range(2, 201, 2):
        for lcs in range(1, lensum // 2):
            exact = 200 * lcs / lensum
            if abs(exact - math.floor(exact) - 0.5) > 1e-9:
                continue
            len_a = lensum // 2
            a = "a" * lcs + "b" * (len_a - lcs)
            b = "a" * lcs + "c" * (len_a - lcs)
            assert char_f1(a, b) == fuzz.token_sort_ratio(a, b) / 100, (a, b)
            checked += 1
    assert checked > 50


REALISTIC_PAIRS = [
    ("織田信長", "織田信長"),
    ("織田 信長", "織田信長"),
    ("おだのぶなが", "織田信長"),
    ("1990年", "1990年"),
    ("1990", "1990年"),
    ("平成2年", "1990年"),
    ("東京都", "東京"),
    ("東京都千代田区", "千代田区"),
    ("2つ", "二つ"),
    ("約3000メートル", "3000m"),
    ("答えは富士山です。", "富士山"),
    ("富士山\n", "富士山"),
    (" 富士山", "富士山"),
    ("はい", "いいえ"),
    ("Yes", "yes"),
    ("アメリカ合衆国", "アメリカ"),
    ("日本銀行、財務省", "財務省、日本銀行"),
    ("「吾輩は猫である」", "吾輩は猫である"),
    ("夏目漱石（なつめそうせき）", "夏目漱石"),
    ("iPhone 15 Pro", "iphone15pro"),
    ("Café de Flore", "Cafe de Flore"),
    ("3×4=12", "12"),
    ("第二次世界大戦", "第2次世界大戦"),
    ("ジョン・F・ケネディ", "ジョン・F・ケネディ"),
    ("ｼﾞｮﾝ･F･ｹﾈﾃﾞｨ", "ジョン・F・ケネディ"),
    ("", "回答なし"),
    ("ぶどう\nりんご", "りんご\nぶどう"),
    ("A. 東京", "東京"),
    ("東京大学 京都大学 大阪大学", "大阪大学 東京大学"),
    ("昭和天皇", "裕仁"),
]


@pytest.mark.parametrize("pred, gold", REALISTIC_PAIRS)
def test_char_f1_parity_realistic(pred, gold):
    fuzz = _reference()
    assert char_f1(pred, gold) == fuzz.token_sort_ratio(pred, gold) / 100
    # and also after llm-jp-eval normalization
    p, g = normalize(pred), normalize_gold(gold)
    assert char_f1(p, g) == fuzz.token_sort_ratio(p, g) / 100


def test_char_f1_realistic_hand_values():
    assert char_f1("織田 信長", "織田信長") == 0.44  # token sorting puts 信長 first
    assert char_f1("富士山\n", "富士山") == 1.0  # whitespace is stripped by full_process
    assert char_f1("日本銀行、財務省", "財務省、日本銀行") == 1.0
    assert char_f1("はい", "いいえ") == 0.4  # LCS "い": 2*1/5
    assert char_f1("", "回答なし") == 0.0


# ---------------------------------------------------------------------------
# set_f1
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pred, gold, expected",
    [
        ("a\nb", "a\nb", 1.0),
        ("b\na", "a\nb", 1.0),
        ("a\na\nb", "a\nb", 1.0),  # prediction is de-duplicated
        ("a", "a\na", 2 * 1.0 * 0.5 / 1.5),  # gold keeps duplicates: P=1, R=1/2
        (" a \n\tb", "a\nb ", 1.0),  # each line stripped
        ("", "a", 0.0),  # {""} vs ["a"]
        ("", "", 1.0),  # {""} vs [""]
        ("a", "b", 0.0),
        ("a\n", "a", 2 * 0.5 * 1.0 / 1.5),  # trailing newline adds "" to the prediction set
        ("a\nb\nc", "a\nb\nd\ne", 2 * (2 / 3) * 0.5 / (2 / 3 + 0.5)),  # = 4/7
        ("a\nx", "a\nb\nc", 2 * 0.5 * (1 / 3) / (0.5 + 1 / 3)),  # = 0.4
        ("りんご\nみかん", "みかん\nりんご\nぶどう", 2 * 1.0 * (2 / 3) / (1 + 2 / 3)),  # = 0.8
    ],
)
def test_set_f1(pred, gold, expected):
    value = set_f1(pred, gold)
    assert value == expected
    assert isinstance(value, float)


def test_set_f1_known_fractions():
    assert set_f1("a\nb\nc", "a\nb\nd\ne") == pytest.approx(4 / 7, abs=1e-15)
    assert set_f1("a\nx", "a\nb\nc") == pytest.approx(0.4, abs=1e-15)
    assert set_f1("a", "a\na") == pytest.approx(2 / 3, abs=1e-15)


# ---------------------------------------------------------------------------
# parse_float / pearson / spearman
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "s, expected",
    [
        ("3.5点", 3.5),
        ("約3", 3.0),
        ("3.2.1", -2.0),
        ("", -2.0),
        ("abc", -2.0),
        (".", -2.0),
        ("-1.5", 1.5),  # the minus sign is dropped, as in llm-jp-eval
        ("4", 4.0),
        (" 4.0\n", 4.0),
        ("1e3", 13.0),  # "e" is dropped
        ("3/5", 35.0),
        (".5", 0.5),
        ("5.", 5.0),
    ],
)
def test_parse_float(s, expected):
    value = parse_float(s)
    assert value == expected
    assert isinstance(value, float)


def test_parse_float_full_width_digits():
    # "５" is a Unicode digit but not [0-9]: it is removed -> "" -> -2.0 (normalize NFKCs it first)
    assert parse_float("５") == -2.0
    assert parse_float(normalize("５")) == 5.0


def test_correlation_perfect():
    golds = ["1", "2", "3", "4"]
    assert pearson(["1.0点", "2", "3", "4"], golds) == pytest.approx(1.0)
    assert spearman(["1", "2", "3", "4"], golds) == 1.0
    assert spearman(["10", "20", "30", "400"], golds) == 1.0  # monotone
    assert pearson(["4", "3", "2", "1"], golds) == pytest.approx(-1.0)


def test_correlation_unparsable_counts_as_minus_two():
    golds = ["1", "2", "3", "4"]
    preds = ["1", "2", "3", "x"]  # -> [1, 2, 3, -2]
    # hand-computed: pearson = -4 / sqrt(5 * 14); spearman ranks [2,3,4,1] vs [1,2,3,4] -> -1/5
    assert pearson(preds, golds) == pytest.approx(-4 / math.sqrt(70), abs=1e-12)
    assert spearman(preds, golds) == pytest.approx(-0.2, abs=1e-12)
    # dropping the unparsable item would instead give a perfect correlation
    assert pearson(preds[:3], golds[:3]) == pytest.approx(1.0)


def test_correlation_against_scipy():
    from scipy.stats import pearsonr, spearmanr

    golds = ["1.5", "2", "3.25", "4", "0", "5"]
    preds = ["2点", "2.5", "わからない", "4.5", "1", "3.2.1"]
    y_true = [1.5, 2.0, 3.25, 4.0, 0.0, 5.0]
    y_pred = [2.0, 2.5, -2.0, 4.5, 1.0, -2.0]
    assert pearson(preds, golds) == float(pearsonr(y_true, y_pred)[0])
    assert spearman(preds, golds) == float(spearmanr(y_true, y_pred)[0])


def test_correlation_constant_is_zero_and_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would fail the test
        assert pearson(["3", "3", "3"], ["1", "2", "3"]) == 0.0
        assert spearman(["3", "3", "3"], ["1", "2", "3"]) == 0.0
        assert pearson(["x", "y", "z"], ["1", "2", "3"]) == 0.0  # all -2.0
        assert pearson(["1", "2", "3"], ["2", "2", "2"]) == 0.0  # constant golds


def test_correlation_too_few_items():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pearson(["1"], ["1"]) == 0.0
        assert spearman(["1"], ["1"]) == 0.0
        assert pearson([], []) == 0.0
        assert spearman([], []) == 0.0


def test_correlation_two_items():
    assert pearson(["1", "2"], ["1", "2"]) == pytest.approx(1.0)
    assert spearman(["2", "1"], ["1", "2"]) == pytest.approx(-1.0)


def test_correlation_returns_plain_float_in_range():
    rng = random.Random(7)
    for _ in range(50):
        n = rng.randint(0, 12)
        golds = [str(rng.randint(0, 5)) for _ in range(n)]
        preds = [rng.choice(["0", "1", "2.5", "3点", "x", "", "4", "5", "1.2.3"]) for _ in range(n)]
        for fn in (pearson, spearman):
            value = fn(preds, golds)
            assert type(value) is float
            assert not math.isnan(value)
            assert -1.0 <= value <= 1.0


# ---------------------------------------------------------------------------
# lm-eval glue
# ---------------------------------------------------------------------------


def _doc(output: str, dataset: str) -> dict:
    return {"instruction": "質問に答えてください。", "input": "質問：テスト", "output": output,
            "jaster_dataset": dataset}


def test_process_results_exact_match():
    out = process_results(_doc("ＥＮＴＡＩＬＭＥＮＴ", "jamp"), [normalize("ENTAILMENT\n\n### 入力")])
    assert out == {"exact_match": 1.0, "score": 1.0}
    out = process_results(_doc("entailment", "jamp"), ["entailment\n"])
    assert out == {"exact_match": 0.0, "score": 0.0}


def test_process_results_char_f1():
    out = process_results(_doc("東京", "niilc"), [normalize("東京都")])
    assert out == {"char_f1": 0.8, "score": 0.8}


def test_process_results_set_f1():
    out = process_results(_doc("a\nb\nd\ne", "wiki_coreference"), ["a\nb\nc"])
    assert set(out) == {"set_f1", "score"}
    assert out["set_f1"] == out["score"] == set_f1("a\nb\nc", "a\nb\nd\ne")


def test_process_results_of_the_lenient_pipeline_adds_answer_diagnostics():
    from lm_eval_jaster.filters import LenientAnswer

    # Right once extracted, wrong as written; the strict answer is not a label: not well-formed.
    out = process_results(_doc("entailment", "jamp"), [LenientAnswer("entailment", "答え：entailment")])
    assert out == {"exact_match": 1.0, "score": 1.0, "format_adherence": 0.0, "lenient_recovered": 1.0}
    # Well-formed and right as written: nothing to recover.
    out = process_results(_doc("entailment", "jamp"), [LenientAnswer("entailment", "entailment")])
    assert out == {"exact_match": 1.0, "score": 1.0, "format_adherence": 1.0, "lenient_recovered": 0.0}
    # Well-formed but wrong either way.
    out = process_results(_doc("neutral", "jamp"), [LenientAnswer("entailment", "entailment")])
    assert out["format_adherence"] == 1.0 and out["lenient_recovered"] == 0.0
    # The reading dataset also reports whether kanji are left.
    out = process_results(_doc("とうきょう", "wiki_reading"), [LenientAnswer("東京", "東京")])
    assert out["kanji_left"] == 1.0 and out["format_adherence"] == 0.0


def test_process_results_correlation_items_are_json_safe():
    docs = [_doc("1", "jsts"), _doc("２", "jsts"), _doc("3", "jsts"), _doc("4", "jsts")]
    responses = ["1点", "わからない", "", "3"]
    items = []
    for doc, resp in zip(docs, responses):
        out = process_results(doc, [normalize(resp)])
        assert set(out) == {"pearson", "spearman", "score"}
        for value in out.values():
            assert isinstance(value, tuple) and len(value) == 2
            assert all(isinstance(x, str) for x in value)
        json.dumps(out, allow_nan=False)
        items.append(out["pearson"])
    assert items[1] == ("わからない", "2")  # gold NFKC-normalized
    preds = [p for p, _ in items]
    golds = [g for _, g in items]
    assert pearson_aggregation(items) == pearson(preds, golds)
    assert spearman_aggregation(items) == spearman(preds, golds)
    json.dumps(
        {"pearson": pearson_aggregation(items), "spearman": spearman_aggregation(items)}, allow_nan=False
    )


def test_aggregations_match_pure_functions():
    preds = ["1", "2", "3", "x"]
    golds = ["1", "2", "3", "4"]
    items = list(zip(preds, golds))
    assert pearson_aggregation(items) == pearson(preds, golds)
    assert spearman_aggregation(items) == spearman(preds, golds)
    assert pearson_aggregation([("3", "3")] * 5) == 0.0
    assert spearman_aggregation([]) == 0.0
    assert pearson_aggregation([("1", "1")]) == 0.0
