"""MT / SUM metrics (lm_eval_jaster.metrics.translation, .neural): llm-jp-eval's BLEU as it computes it, corpus BLEU,
RougeJa, COMET's optional paths (absent → a note, required → an error, another interpreter, stub and fake backends)
and the lm-eval glue."""

from __future__ import annotations

import importlib.machinery
import json
import math
import os
import random
import stat
import sys
import types
from pathlib import Path

import pytest
from sacrebleu.metrics import BLEU

from lm_eval_jaster import settings
from lm_eval_jaster.filters import LenientAnswer
from lm_eval_jaster.metrics import neural, translation
from lm_eval_jaster.scoring import process_results
from lm_eval_jaster.metrics.neural import COMET_MODEL_ID, MetricUnavailableError, NeuralOptions
from lm_eval_jaster.metrics.translation import bleu_en, bleu_ja, corpus_bleu, rouge_scores
from lm_eval_jaster.registry import get_dataset
from lm_eval_jaster.task import optional_metrics

E_TO_J = "これから提示する英語の文章を日本語に翻訳してください。必ず日本語の訳文のみを出力し、それ以外には何も含めないことを厳守してください。"
J_TO_E = "これから提示する日本語の文章を英語に翻訳してください。必ず英語の訳文のみを出力し、それ以外には何も含めないことを厳守してください。"
ON = NeuralOptions(comet=True)


@pytest.fixture(autouse=True)
def clean_state(monkeypatch):
    """Each test starts with no COMET/BERTScore stand-in; whatever was installed before (e.g. a session-wide stub in
    conftest) is put back afterwards."""
    saved = (neural._comet_scorer, neural._bert_scorer)
    for name in ("JASTER_COMET", "JASTER_COMET_PYTHON", "JASTER_BERT_SCORE"):
        monkeypatch.delenv(name, raising=False)
    neural.set_comet_scorer(None)
    neural.set_bert_scorer(None)
    yield
    neural.set_comet_scorer(saved[0])
    neural.set_bert_scorer(saved[1])


def test_all_exports_exist():
    for module in (translation, neural):
        for name in module.__all__:
            assert hasattr(module, name), name


def _options(**metadata) -> tuple[NeuralOptions, list[str]]:
    """The options and notes a task of alt-e-to-j gets for this metadata (as JasterTask computes them)."""
    return optional_metrics(get_dataset(metadata.pop("dataset", "alt-e-to-j")), settings.resolve(metadata))


# ---------------------------------------------------------------------------
# BLEU as llm-jp-eval computes it: a string where sacrebleu expects a list → position-aligned characters
# ---------------------------------------------------------------------------

def _llm_jp_eval_expression(pred: str, gold: str, lang: str) -> float:
    """The literal call in llm-jp-eval v1.3.0 get_evaluation_result (guard for empty strings included)."""
    if not (pred.strip() and gold.strip()):
        return float(pred.strip() == gold.strip())
    bleu = BLEU(trg_lang="ja", effective_order=True) if lang == "ja" else BLEU(effective_order=True)
    return bleu.corpus_score(pred, [gold]).score


def test_bleu_ja_hand_checked():
    # hyp chars 戦死とは、軍人が戦争で死ぬこと。 (16) against the first 16 gold chars: the first 10 agree, the rest
    # (で/に, 死/よ, ぬ/り, こ/死, と/亡, 。/す) do not. Each character is one segment of one token, so only unigrams
    # exist (effective order 1) and both lengths are 16: 100 * 10/16.
    pred, gold = "戦死とは、軍人が戦争で死ぬこと。", "戦死とは、軍人が戦争により死亡すること。"
    assert bleu_ja(pred, gold) == pytest.approx(62.5)
    # Every aligned character matches; the gold's extra 「だ」 falls off the zip: 100, though the words differ.
    assert bleu_ja("猫が好き", "猫が好きだ") == pytest.approx(100.0)
    # A one-character shift kills every match although three characters are shared: 0.
    assert bleu_ja("私は猫", "あなたは猫") == 0.0
    # Shorter prediction: sys 1 char vs ref 1 char (zip), match → 100.
    assert bleu_ja("猫", "猫が好きだ") == pytest.approx(100.0)


def test_lm_eval_builtin_bleu_gives_zero_on_these_japanese_pairs():
    from lm_eval.api.metrics import bleu as lm_eval_bleu

    for pred, gold in [("戦死とは、軍人が戦争で死ぬこと。", "戦死とは、軍人が戦争により死亡すること。"), ("猫が好き", "猫が好きだ")]:
        assert lm_eval_bleu([(gold, pred)]) == 0.0  # 13a keeps the whole unspaced sentence as one token
        assert bleu_ja(pred, gold) > 50


def test_bleu_en_hand_checked():
    # "Hello world" vs "Hello there": 11 aligned characters; the space segment has no token (10 tokens each side);
    # H,e,l,l,o match, then w/t o/h r/e l/r d/e do not: 100 * 5/10.
    assert bleu_en("Hello world", "Hello there") == pytest.approx(50.0)
    # "lol" vs "The ...": l/T o/h l/e → 0 (what the dummy model scores on an English gold starting with "The").
    assert bleu_en("lol", "The storm caused power cuts.") == 0.0
    # Hypothesis longer than the reference: zip truncates to 3 aligned characters, all equal → 100.
    assert bleu_en("abcdef", "abc") == pytest.approx(100.0)


def test_bleu_empty_strings_use_the_guard():
    # sacrebleu itself raises on an empty string (the reason llm-jp-eval needs a guard).
    with pytest.raises(IndexError):
        BLEU(effective_order=True).corpus_score("", ["abc"])
    assert bleu_ja("", "猫") == 0.0
    assert bleu_ja(" ", "") == 1.0  # both empty after strip: equal → 1.0 (on the 0–100 scale, as llm-jp-eval)
    assert bleu_en("\n", "x") == 0.0


def _aligned_unigram_score(pred: str, gold: str) -> float:
    """Independent restatement for space-free text: 100 * (aligned equal chars) / (aligned length)."""
    m = min(len(pred), len(gold))
    matches = sum(pred[i] == gold[i] for i in range(m))
    return 100.0 * matches / m if matches else 0.0


def test_bleu_equals_llm_jp_eval_and_is_a_positional_character_score():
    rng = random.Random(0)
    alphabet = "猫犬がはのを食べた。、アイ漢字かな"
    for _ in range(300):
        pred = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        gold = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        assert bleu_ja(pred, gold) == _llm_jp_eval_expression(pred, gold, "ja")
        assert bleu_ja(pred, gold) == pytest.approx(_aligned_unigram_score(pred, gold))
    letters = "abcde .,"
    for _ in range(300):
        pred = "".join(rng.choice(letters) for _ in range(rng.randint(0, 12)))
        gold = "".join(rng.choice(letters) for _ in range(rng.randint(0, 12)))
        assert bleu_en(pred, gold) == _llm_jp_eval_expression(pred, gold, "en")


def test_corpus_bleu_hand_checked_and_not_llm_jp_evals():
    # ja-mecab: 戦死 と は 、 軍人 が 戦争 で 死ぬ こと 。 (11) vs 戦死 と は 、 軍人 が 戦争 により 死亡 する こと 。 (12).
    # n-gram matches 9/11, 7/10, 5/9, 4/8; brevity penalty exp(1 - 12/11).
    pred, gold = "戦死とは、軍人が戦争で死ぬこと。", "戦死とは、軍人が戦争により死亡すること。"
    expected = 100 * math.exp(1 - 12 / 11) * (9 / 11 * 7 / 10 * 5 / 9 * 4 / 8) ** 0.25
    assert corpus_bleu([pred], [gold], "ja") == pytest.approx(expected)
    assert expected == pytest.approx(57.667, abs=1e-3)
    assert corpus_bleu([pred], [gold], "ja") != pytest.approx(bleu_ja(pred, gold))
    # English: 13a; identical corpora → 100; corpus statistics are pooled, not averaged per sentence.
    assert corpus_bleu(["the cat sat on the mat"], ["the cat sat on the mat"], "en") == pytest.approx(100.0)
    assert corpus_bleu([], [], "en") == 0.0
    with pytest.raises(ValueError):
        corpus_bleu(["a"], [], "en")


# ---------------------------------------------------------------------------
# ROUGE (llm-jp-eval v1.4 RougeJa: rouge_score + sacrebleu's ja-mecab tokenizer), as fractions
# ---------------------------------------------------------------------------

def test_rouge_tokenizer_is_sacrebleus_mecab_ipadic():
    tokenizer = translation._rouge_scorer()._tokenizer
    assert tokenizer.tokenize("私は猫です。") == ["私", "は", "猫", "です", "。"]
    assert tokenizer.tokenize("猫が鳴いた。\n犬が走った。\n") == ["猫", "が", "鳴い", "た", "。", "犬", "が", "走っ", "た", "。"]


def test_rouge_hand_checked():
    # 私 は 猫 です 。 vs 私 は 犬 です 。: 4/5 unigrams, 2/4 bigrams (私は, です。), LCS 4 of 5.
    assert rouge_scores("私は猫です。", "私は犬です。") == pytest.approx({"rouge1": 0.8, "rouge2": 0.5, "rougeLsum": 0.8})
    # Two sentences swapped: bigrams 8/9 shared (only 。犬 / 。猫 differ); rougeLsum splits on the newlines inserted
    # after 。, so each gold sentence is fully covered: 1.0 (a whole-text LCS would be lower).
    swapped = rouge_scores("猫が鳴いた。犬が走った。", "犬が走った。猫が鳴いた。")
    assert swapped["rouge1"] == pytest.approx(1.0)
    assert swapped["rouge2"] == pytest.approx(8 / 9)
    assert swapped["rougeLsum"] == pytest.approx(1.0)
    from rouge_score.rouge_scorer import RougeScorer

    plain_l = RougeScorer(["rougeL"], tokenizer=tokenizer_for_test()).score("犬が走った。猫が鳴いた。", "猫が鳴いた。犬が走った。")
    assert plain_l["rougeL"].fmeasure < 1.0
    # Nothing in common, and empty texts: 0.
    assert rouge_scores("晴れ", "雨が降った。")["rouge2"] == 0.0
    assert rouge_scores("", "雨が降った。") == {"rouge1": 0.0, "rouge2": 0.0, "rougeLsum": 0.0}


def tokenizer_for_test():
    return translation._JapaneseWordTokenizer()


def test_rouge_newline_rule():
    assert translation._add_new_line("あ。い！う？") == "あ。\nい！\nう？\n"
    assert translation._add_new_line("あ。\nい。") == "あ。\nい。"  # a text with a newline is left alone


# ---------------------------------------------------------------------------
# lm-eval glue
# ---------------------------------------------------------------------------

def _strict_json(value) -> str:
    def reject(constant):
        raise ValueError(constant)
    text = json.dumps(value, ensure_ascii=False)
    json.loads(text, parse_constant=reject)
    return text


def test_process_results_translation_items():
    doc = {"input": "The cat sleeps.", "output": "猫が眠る。", "instruction": E_TO_J, "jaster_dataset": "alt-e-to-j"}
    out = process_results(doc, ["猫が寝る。"], ON)
    assert out["bleu_ja"] == pytest.approx(bleu_ja("猫が寝る。", "猫が眠る。"))
    assert out["comet_wmt22"] == out["score"] == ["The cat sleeps.", "猫が寝る。", "猫が眠る。"]  # src = raw input
    assert out["corpus_bleu"] == ["ja", "猫が寝る。", "猫が眠る。"]
    assert "format_adherence" not in out and "bleu_en" not in out and "bert_score_ja_f1" not in out
    _strict_json(out)
    doc_je = {"input": "猫が眠る。", "output": "The cat sleeps.", "instruction": J_TO_E, "jaster_dataset": "alt-j-to-e"}
    out = process_results(doc_je, [LenientAnswer("The cat sleeps.", "訳：The cat sleeps.")], ON)
    # The strict answer is non-blank text, so it is well-formed; COMET is corpus-level: no lenient_recovered.
    assert set(out) == {"bleu_en", "corpus_bleu", "comet_wmt22", "score", "format_adherence"}
    assert out["bleu_en"] == pytest.approx(100.0) and out["format_adherence"] == 1.0


def test_gold_is_nfkc_normalised_and_the_direction_comes_from_the_dataset():
    doc = {"input": "x", "output": "ＡＢＣです", "jaster_dataset": "wikicorpus-e-to-j"}
    out = process_results(doc, ["ABCです"], ON)
    assert out["corpus_bleu"] == ["ja", "ABCです", "ABCです"] and out["bleu_ja"] == pytest.approx(100.0)
    assert process_results({"input": "猫", "output": "cat", "jaster_dataset": "wikicorpus-j-to-e"}, ["cat"],
                           ON)["corpus_bleu"][0] == "en"


def test_process_results_summarization_items():
    doc = {"input": "記事", "output": "私は犬です。", "jaster_dataset": "xlsum_ja"}
    out = process_results(doc, ["私は猫です。"], ON)
    assert out["rouge2"] == out["score"] == pytest.approx(0.5)
    assert out["rouge1"] == pytest.approx(0.8) and out["rougeLsum"] == pytest.approx(0.8)
    assert out["bleu_ja"] == pytest.approx(bleu_ja("私は猫です。", "私は犬です。"))
    assert out["corpus_bleu"] == ["ja", "私は猫です。", "私は犬です。"]
    assert "comet_wmt22" not in out
    _strict_json(out)
    lenient = process_results(doc, [LenientAnswer("私は犬です。", "要約：私は犬です。")], ON)
    assert lenient["score"] == 1.0 and lenient["lenient_recovered"] == 1.0


def test_aggregations():
    items = [["ja", "戦死とは、軍人が戦争で死ぬこと。", "戦死とは、軍人が戦争により死亡すること。"]]
    assert translation.corpus_bleu_aggregation(items) == pytest.approx(57.667, abs=1e-3)
    seen = []
    neural.set_comet_scorer(lambda data: seen.extend(data) or [0.5 + 0.1 * i for i in range(len(data))])
    triples = [["s1", "m1", "r1"], ["s2", "m2", "r2"], ["s1", "m1", "r1"]]
    assert neural.comet_wmt22_aggregation(triples, ON) == pytest.approx((0.5 + 0.6 + 0.5) / 3)
    assert seen == [{"src": "s1", "mt": "m1", "ref": "r1"}, {"src": "s2", "mt": "m2", "ref": "r2"}]  # once per triple
    seen.clear()
    assert neural.comet_wmt22_aggregation(triples[:2], ON) == pytest.approx(0.55)  # cached: the `score` twin
    assert seen == []
    assert neural.cached_segment_scores(triples) == pytest.approx([0.5, 0.6, 0.5])  # what the intervals resample
    assert neural.cached_segment_scores([["never", "scored", "x"]]) is None


# ---------------------------------------------------------------------------
# COMET: optional. Absent → a note and BLEU only; required (jaster_comet: true) → an error before any generation
# ---------------------------------------------------------------------------

def _no_comet(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "comet" else real(name, *a))
    monkeypatch.delitem(sys.modules, "comet", raising=False)


def test_comet_absent_is_a_note_not_an_error(monkeypatch):
    _no_comet(monkeypatch)
    options, notes = _options()
    assert options.comet is False
    (note,) = notes
    assert "not installed" in note and "MT is left out of AVG" in note and "JASTER_COMET_PYTHON" in note
    doc = {"input": "猫", "output": "cat", "jaster_dataset": "alt-j-to-e"}
    assert set(process_results(doc, ["cat"], options)) == {"bleu_en", "corpus_bleu"}  # no comet, no score
    assert _options(dataset="xlsum_ja") == (NeuralOptions(comet=False), [])  # no COMET needed there
    assert _options(dataset="jamp")[1] == []


def test_comet_required_but_absent_is_an_error(monkeypatch):
    _no_comet(monkeypatch)
    for metadata in ({"jaster_comet": True}, {"jaster_comet": "true"}):
        with pytest.raises(MetricUnavailableError) as error:
            _options(**metadata)
        for needed in ('pip install "lm-eval-jaster[mt]"', "JASTER_COMET_PYTHON", COMET_MODEL_ID):
            assert needed in str(error.value)
    monkeypatch.setenv("JASTER_COMET", "0")
    assert _options()[0].comet is False
    with pytest.raises(MetricUnavailableError):  # metadata wins over the environment
        _options(jaster_comet=True)
    with pytest.raises(settings.SettingsError, match="jaster_comet = 'maybe' is not true or false or auto"):
        _options(jaster_comet="maybe")


def test_comet_switched_off_is_a_note_too(monkeypatch):
    neural.set_comet_scorer(lambda data: [0.5] * len(data))
    options, notes = _options(jaster_comet=False)
    assert options.comet is False and "switched off" in notes[0]


def _fake_comet(monkeypatch, download_error: Exception | None = None) -> dict:
    calls: dict = {"download": [], "predict": []}

    class Output:
        def __init__(self, scores):
            self.scores = scores
            self.system_score = sum(scores) / len(scores)

    class Model:
        def predict(self, data, batch_size, gpus, progress_bar):
            calls["predict"].append({"data": list(data), "batch_size": batch_size, "gpus": gpus})
            return Output([len(d["mt"]) / 10 for d in data])

    def download_model(model):
        calls["download"].append(model)
        if download_error:
            raise download_error
        return f"/fake/{model}/checkpoints/model.ckpt"

    module = types.ModuleType("comet")
    module.__spec__ = importlib.machinery.ModuleSpec("comet", None)
    module.download_model = download_model
    module.load_from_checkpoint = lambda path: calls.setdefault("loaded", path) and Model()
    monkeypatch.setitem(sys.modules, "comet", module)
    monkeypatch.setattr(neural, "_comet_models", {})
    monkeypatch.setattr(neural, "_segment_cache", {})
    return calls


def test_comet_backend_is_called_as_llm_jp_eval_does(monkeypatch):
    calls = _fake_comet(monkeypatch)
    options, notes = _options(jaster_comet=True, jaster_comet_gpus=0)
    assert notes == [] and options.comet is True
    assert calls["download"] == [COMET_MODEL_ID]  # resolved at build time, before any generation
    value = neural.comet_wmt22_aggregation([["src one", "mt1", "ref"], ["src two", "mt-two", "ref"]], options)
    assert value == pytest.approx((0.3 + 0.6) / 2)  # system score = mean of segment scores
    (predict,) = calls["predict"]
    assert predict["batch_size"] == 8 and predict["gpus"] == 0
    assert predict["data"] == [{"src": "src one", "mt": "mt1", "ref": "ref"}, {"src": "src two", "mt": "mt-two", "ref": "ref"}]
    assert calls["loaded"] == f"/fake/{COMET_MODEL_ID}/checkpoints/model.ckpt"


def test_comet_model_missing_offline_fails_at_build_time_when_required(monkeypatch):
    _fake_comet(monkeypatch, download_error=OSError("offline mode is enabled"))
    with pytest.raises(MetricUnavailableError) as error:
        _options(dataset="wikicorpus-e-to-j", jaster_comet=True)
    assert "could not be found or downloaded" in str(error.value) and "offline mode is enabled" in str(error.value)


def test_comet_local_checkpoint(monkeypatch, tmp_path):
    calls = _fake_comet(monkeypatch)
    ckpt = tmp_path / "model.ckpt"
    ckpt.write_bytes(b"")
    options, _ = _options(jaster_comet=True, jaster_comet_model=str(ckpt))
    assert calls["download"] == []
    assert neural.comet_wmt22_aggregation([["s", "abcde", "r"]], options) == pytest.approx(0.5)
    assert calls["loaded"] == str(ckpt)


# ---------------------------------------------------------------------------
# COMET in another interpreter (JASTER_COMET_PYTHON), tested with a stub interpreter: the real python with a fake
# `comet` package on its path, as a venv with unbabel-comet would have it
# ---------------------------------------------------------------------------

STUBS = Path(__file__).resolve().parent / "stubs"  # stubs/comet: a stand-in for unbabel-comet



@pytest.fixture
def comet_python(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """An executable `python` that has a (fake) unbabel-comet; and the log of what it was asked."""
    site = STUBS  # holds the package `comet`
    log = tmp_path / "comet.log"
    python = tmp_path / "venv-comet" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f"#!/bin/sh\nPYTHONPATH={site} FAKE_COMET_LOG={log} exec {sys.executable} \"$@\"\n")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    neural._python_has_comet.cache_clear()
    _no_comet(monkeypatch)  # not in this interpreter: only the other one has it
    yield python, log
    for worker in neural._workers.values():
        worker.close()
    neural._workers.clear()


def test_comet_in_another_interpreter(comet_python, monkeypatch):
    python, log = comet_python
    monkeypatch.setenv("JASTER_COMET_PYTHON", str(python))
    options, notes = _options(jaster_comet_gpus=0)
    assert options.comet is True and notes == []  # "auto" finds it there
    items = [["src one", "mt1", "ref"], ["src two", "mt-two", "ref"]]
    assert neural.comet_wmt22_aggregation(items, options) == pytest.approx((0.3 + 0.6) / 2)
    assert neural.comet_wmt22_aggregation(items + [["s3", "abcd", "r"]], options) == pytest.approx((0.3 + 0.6 + 0.4) / 3)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    # One worker for the run: the model is loaded once; only new segments are sent.
    assert calls == [{"download": COMET_MODEL_ID}, {"load": f"/fake/{COMET_MODEL_ID}/model.ckpt"},
                     {"predict": 2, "batch_size": 8, "gpus": 0}, {"predict": 1, "batch_size": 8, "gpus": 0}]


def test_comet_python_without_comet_is_a_note(tmp_path, monkeypatch):
    _no_comet(monkeypatch)
    neural._python_has_comet.cache_clear()
    options, notes = _options(jaster_comet_python=sys.executable)  # this interpreter has no unbabel-comet
    assert options.comet is False and "cannot be imported" in notes[0] and sys.executable in notes[0]
    options, notes = _options(jaster_comet_python=str(tmp_path / "nope" / "python"))
    assert options.comet is False and "does not exist" in notes[0]


# ---------------------------------------------------------------------------
# BERTScore: opt-in; absent → a note
# ---------------------------------------------------------------------------

def test_bert_score_is_opt_in(monkeypatch):
    doc = {"input": "The cat.", "output": "猫。", "jaster_dataset": "alt-e-to-j"}
    neural.set_comet_scorer(lambda data: [0.0] * len(data))
    options, _ = _options()
    assert "bert_score_ja_f1" not in process_results(doc, ["猫。"], options)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "bert_score" else real(name, *a))
    options, notes = _options(jaster_bert_score=True)
    assert any("bert-score is not installed" in n for n in notes)
    assert "bert_score_ja_f1" not in process_results(doc, ["猫。"], options)
    neural.set_bert_scorer(lambda preds, golds, lang: [1.0 if p == g else 0.5 for p, g in zip(preds, golds)])
    options, notes = _options(jaster_bert_score=True)
    assert notes == []
    out = process_results(doc, ["猫。"], options)
    assert out["bert_score_ja_f1"] == ["ja", "猫。", "猫。"]
    assert neural.bert_score_aggregation([out["bert_score_ja_f1"], ["ja", "犬。", "猫。"]]) == pytest.approx(0.75)


# ---------------------------------------------------------------------------
# Through lm-eval: COMET absent → the MT tasks run with BLEU and the table says why COMET is missing
# ---------------------------------------------------------------------------

MT_SUM_TASKS = ["jaster_alt_e_to_j", "jaster_alt_j_to_e", "jaster_wikicorpus_e_to_j", "jaster_wikicorpus_j_to_e",
                "jaster_xlsum_ja"]


def _run_cli(args: list[str], capsys) -> tuple[dict, dict, dict[str, list[dict]], str]:
    from lm_eval_jaster import cli

    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    out = Path(args[args.index("--output_path") + 1])
    (results_file,) = sorted(out.glob("*/results_*.json"))
    results = json.loads(results_file.read_text(encoding="utf-8"))
    scores = json.loads(results_file.with_name(results_file.name.replace("results_", "jaster_scores_")).read_text(
        encoding="utf-8"))

    def reject(constant):
        raise ValueError(f"non-JSON constant {constant}")

    samples = {}
    for path in results_file.parent.glob("samples_*.jsonl"):
        task = path.name[len("samples_"):].rsplit("_", 1)[0]
        samples[task] = [json.loads(line, parse_constant=reject) for line in path.read_text(encoding="utf-8").splitlines()]
    return results, scores, samples, printed


def test_dummy_run_with_a_stub_comet(jaster_env, tmp_path, capsys):
    seen = []
    neural.set_comet_scorer(lambda data: seen.extend(data) or [0.25] * len(data))
    results, scores, samples, _ = _run_cli(
        ["--model", "dummy", "--model_args", "pretrained=dummy", "--tasks", ",".join(MT_SUM_TASKS), "--limit", "3",
         "--output_path", str(tmp_path / "out"), "--log_samples"], capsys)
    rows = results["results"]
    for task in MT_SUM_TASKS[:4]:
        row = rows[task]
        assert row["comet_wmt22,llm-jp-eval"] == pytest.approx(0.25) == row["score,llm-jp-eval"]
        assert row["score,lenient"] == row["comet_wmt22,lenient"]
        bleu = row.get("bleu_ja,llm-jp-eval", row.get("bleu_en,llm-jp-eval"))
        assert bleu == 0.0  # "lol" never aligns with these golds
        assert row["corpus_bleu,llm-jp-eval"] == 0.0
        assert "bert_score_ja_f1,llm-jp-eval" not in row and "bert_score_en_f1,llm-jp-eval" not in row
    assert {d["mt"] for d in seen} == {"lol"}
    assert {"src": "The storm caused power cuts in the north.", "mt": "lol", "ref": "嵐により北部で停電が起きた。"} in seen
    xlsum = rows["jaster_xlsum_ja"]
    assert xlsum["rouge2,llm-jp-eval"] == xlsum["score,llm-jp-eval"] == 0.0
    assert scores["categories"]["MT"] == pytest.approx(0.25)
    assert scores["datasets"]["alt-e-to-j"]["ci"] == [0.25, 0.25]  # from the cached segment scores
    assert scores["categories"]["SUM"] == 0.0
    assert scores["datasets"]["alt-e-to-j"]["key_metric"] == "comet_wmt22"
    assert scores["datasets"]["xlsum_ja"]["key_metric"] == "rouge2"
    assert scores["notes"] == []
    for task, task_rows in samples.items():  # per-sample values are JSON (strings, floats), never NaN
        for row in task_rows:
            if task != "jaster_xlsum_ja":
                assert row["comet_wmt22"][1] == row["filtered_resps"][0]


def test_mt_runs_without_comet_and_the_table_says_so(jaster_env, tmp_path, capsys, monkeypatch):
    _no_comet(monkeypatch)
    results, scores, _, printed = _run_cli(
        ["--model", "dummy", "--model_args", "pretrained=dummy", "--tasks", "jaster_mt,jaster_jemhopqa", "--limit",
         "2", "--output_path", str(tmp_path / "out"), "--log_samples"], capsys)
    for task in ("jaster_alt_e_to_j", "jaster_alt_j_to_e", "jaster_wikicorpus_e_to_j", "jaster_wikicorpus_j_to_e"):
        row = results["results"][task]
        assert any(f"bleu_{lang},llm-jp-eval" in row for lang in ("ja", "en")) and "corpus_bleu,llm-jp-eval" in row
        assert "comet_wmt22,llm-jp-eval" not in row and "score,llm-jp-eval" not in row
    assert "MT" not in scores["categories"] and "MT" in scores["missing_categories"]
    assert scores["datasets"]["alt-e-to-j"]["score"] is None and scores["datasets"]["alt-e-to-j"]["in_avg"] is False
    assert scores["avg_categories"] == ["QA"] and scores["avg_partial"] is True
    assert any("alt-e-to-j: comet_wmt22 not computed (the package unbabel-comet is not installed)" in n
               for n in scores["notes"])
    assert "| MT | alt-e-to-j (not in AVG) | comet_wmt22 | missing |" in printed
    assert "comet_wmt22 not computed (the package unbabel-comet is not installed): MT is left out of AVG" in printed
