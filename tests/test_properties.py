"""Property-based tests: every filter and metric accepts arbitrary Unicode and stays in range."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lm_eval_jaster import kana, lenient, metrics
from lm_eval_jaster.filters import LenientAnswerFilter, LlmJpEvalFilter
from lm_eval_jaster.scoring import process_results

# Arbitrary Unicode (surrogates excluded: they cannot appear in decoded model output), biased towards the
# characters Jaster answers are made of.
JAPANESE = st.sampled_from(list("あいうえおアイウエオｱｲｳ漢字東京、。「」・ー〜～１２３ＡＢ　\n\n\t ,.:-0123456789"
                                "entailmentcontradictionneutralyesnopositivenegative"))
TEXT = st.one_of(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80),
                 st.lists(JAPANESE, max_size=60).map("".join))
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(TEXT, TEXT)
def test_pairwise_metrics_in_unit_interval(pred, gold):
    for fn in (metrics.exact_match, metrics.char_f1, metrics.set_f1):
        value = fn(metrics.normalize(pred), metrics.normalize_gold(gold))
        assert isinstance(value, float) and 0.0 <= value <= 1.0, (fn.__name__, pred, gold, value)
    assert metrics.exact_match(pred, pred) == 1.0
    assert metrics.char_f1(pred, pred) == 1.0
    lines = [x.strip() for x in pred.split("\n")]
    if len(set(lines)) == len(lines):  # gold keeps duplicate lines (llm-jp-eval), so only distinct lines give 1.0
        assert metrics.set_f1(pred, pred) == 1.0


@SETTINGS
@given(st.lists(st.tuples(TEXT, st.floats(0, 5, allow_nan=False).map(str)), max_size=30))
def test_correlations_in_range(pairs):
    preds = [metrics.normalize(p) for p, _ in pairs]
    golds = [g for _, g in pairs]
    for fn in (metrics.pearson, metrics.spearman):
        value = fn(preds, golds)
        assert isinstance(value, float) and not math.isnan(value) and -1.0 - 1e-9 <= value <= 1.0 + 1e-9


@SETTINGS
@given(TEXT)
def test_filters_never_raise_and_keep_shape(raw):
    mc = {"input": "質問：どれ？\n選択肢：0.犬,1.猫,2.鳥,3.魚,4.牛", "output": "1"}
    strict = LlmJpEvalFilter().apply([[raw, raw]], [{**mc, "jaster_dataset": "jcommonsenseqa"}])
    assert strict == [[metrics.normalize(raw)] * 2]
    for dataset in ["jamp", "jsem", "jcommonsenseqa", "mawps", "chabsa", "wiki_ner", "jemhopqa", "wiki_reading",
                    "jsts"]:
        doc = {**mc, "jaster_dataset": dataset}
        (answers,) = LenientAnswerFilter().apply([[raw]], [doc])
        assert len(answers) == 1 and isinstance(answers[0], str)
        assert answers[0].strict == metrics.normalize(raw)
        result = process_results(doc, answers)
        assert result["format_adherence"] in (0.0, 1.0)
        assert result.get("lenient_recovered", 0.0) in (0.0, 1.0)
        json.dumps(result, allow_nan=False)


@SETTINGS
@given(TEXT)
def test_kana_normaliser_output_has_no_katakana_or_kanji_from_kana_input(raw):
    out = kana.normalize_reading(raw)
    assert isinstance(out, str)
    if not kana.has_kanji(out):
        assert not any("\u30a1" <= ch <= "\u30f6" for ch in out)


@pytest.mark.parametrize("fmt", ["label", "choice", "number", "pairs", "lines", "text"])
@SETTINGS
@given(raw=TEXT)
def test_lenient_extract_is_total(fmt, raw):
    out = lenient.extract(raw, fmt, ("entailment", "non-entailment"), {"input": "選択肢：0.a,1.b,2.c,3.d,4.e"})
    assert isinstance(out, str)
