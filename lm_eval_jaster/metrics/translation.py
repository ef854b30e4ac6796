"""Translation (MT) and summarization (SUM) metrics of llm-jp-eval, plus the lm-eval glue of their task templates.

Predictions arrive post-processed by the ``llm-jp-eval`` filter (:func:`lm_eval_jaster.metrics.normalize`: text
before the first blank line, NFKC); golds are NFKC'd here (:func:`lm_eval_jaster.metrics.normalize_gold`), sources
(COMET's ``src``) are the raw sample input, as in llm-jp-eval.

llm-jp-eval's definitions (v1.3.0 ``utils.py::get_evaluation_result``; v1.4 ``metrics/rouge_ja.py``):

- ``bleu_ja`` / ``bleu_en`` — per sample ``BLEU(effective_order=True[, trg_lang="ja"]).corpus_score(pred, [gold]).score``,
  then the mean. A *string* is passed where sacrebleu expects a list of segments, so sacrebleu iterates characters:
  hypothesis character i is one segment, scored against reference character i (``zip`` stops at the shorter). The
  result is a position-aligned character-unigram score on a 0–100 scale, not BLEU; it is reproduced on purpose
  (:func:`bleu_ja`, :func:`bleu_en`). sacrebleu raises on an empty string, so a sample whose prediction or gold is
  empty after ``strip()`` scores ``float(pred.strip() == gold.strip())`` (the guard llm-jp-eval needs; recalled, not
  read). Reported on llm-jp-eval's 0–100 scale.
- ``corpus_bleu`` — NOT llm-jp-eval's: a proper corpus-level sacreBLEU over the task (``ja-mecab`` tokenizer for
  Japanese targets, ``13a`` for English), 0–100, reported beside the faithful one because the faithful one is not BLEU.
- ``comet_wmt22`` — ``Unbabel/wmt22-comet-da`` ``predict([{"src": input, "mt": pred, "ref": gold}, ...], batch_size=8)
  .system_score`` (the mean of the segment scores), once per task in the aggregation. Needs the optional package
  ``unbabel-comet`` (extra ``lm-eval-jaster[mt]``); checked when the task is built (:func:`prepare_task`), so a missing
  package or model fails before generation, and again in the aggregation. ``--metadata '{"jaster_comet": false}'``
  (or env ``JASTER_COMET=0``) skips it: comet_wmt22 (and ``score``) are then not reported, and the MT category cannot
  be computed (the llm-jp-eval table lists it as missing).
- ``bert_score_{ja,en}_f1`` — ``bert_score.score(preds, golds, lang=...)[2].mean()`` (bert-score's default models).
  Not in any average, heavy (a second large model), so opt-in: ``--metadata '{"jaster_bert_score": true}'`` (package
  ``bert-score``); otherwise not reported.
- ``rouge1`` / ``rouge2`` / ``rougeLsum`` (xlsum_ja) — Google's ``rouge_score`` with sacrebleu's Japanese MeCab
  (IPA dictionary) tokenizer, after a newline is inserted after every 「。」「！」「？」 of a text that has no newline
  (``rougeLsum`` splits sentences on newlines), F-measure. This is llm-jp-eval v1.4's ``RougeJa`` (its docstring, read:
  "ROUGE の演算は Google の rougescore を使用する … Tokenizer には sacrebleu で使用されている日本語 Tokenizer を使用する";
  the body is recalled), i.e. NOT fugashi/unidic. Two deliberate differences: values are fractions (0–1), so ``rouge2``
  here equals llm-jp-eval's ``xlsum_ja_rouge2_scaling`` (= ``xlsum_ja_rouge2`` / 100), the value its SUM category
  averages; and the task value is the plain mean of the per-sample F-measures, where llm-jp-eval takes the median of
  1,000 unseeded bootstrap means (``rouge_score.scoring.BootstrapAggregator``, ``.mid``) — an estimate of the same
  mean that differs from run to run by about 0.04 standard errors, so it cannot be reproduced bit for bit.

lm-eval glue: :func:`process_results_translation` / :func:`process_results_summarization` return JSON-safe
per-sample values (floats, or lists of strings for the corpus-level metrics; never NaN) and ``score`` = the key
metric (comet_wmt22 for MT, rouge2 for SUM), plus ``format_adherence`` on the lenient pipeline.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import os
import re
import threading
from statistics import mean as _mean
from typing import Any, Callable, Mapping, Sequence

from lm_eval_jaster.metrics import normalize_gold, with_format_adherence

logger = logging.getLogger("lm_eval.jaster")

__all__ = [
    "COMET_MODEL_ID", "MT_EXTRA", "MetricUnavailableError",
    "bleu_ja", "bleu_en", "llm_jp_eval_bleu", "corpus_bleu", "rouge_ja", "rouge_scores",
    "comet_wmt22", "bert_score_f1", "comet_status", "require_comet", "require_bert_score",
    "prepare_task", "options", "reset_options", "set_comet_scorer", "set_bert_scorer",
    "process_results_translation", "process_results_summarization",
    "comet_wmt22_aggregation", "corpus_bleu_aggregation", "bert_score_aggregation",
]

COMET_MODEL_ID = "Unbabel/wmt22-comet-da"
MT_EXTRA = "lm-eval-jaster[mt]"
COMET_BATCH_SIZE = 8  # llm-jp-eval's
COMET_ENV = "JASTER_COMET"
ROUGE_TYPES = ("rouge1", "rouge2", "rougeLsum")


class MetricUnavailableError(RuntimeError):
    """An optional metric (COMET, BERTScore) was asked for but cannot be computed; the message says what to do."""


# ---------------------------------------------------------------------------
# BLEU
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _bleu(kind: str):
    from sacrebleu.metrics import BLEU

    try:
        if kind == "llm-jp-eval-ja":
            return BLEU(trg_lang="ja", effective_order=True)
        if kind == "llm-jp-eval-en":
            return BLEU(effective_order=True)
        return BLEU(tokenize=kind)  # corpus BLEU: "ja-mecab" or "13a"
    except (RuntimeError, ImportError, ModuleNotFoundError) as e:
        raise MetricUnavailableError(
            f"BLEU for Japanese needs sacrebleu's MeCab tokenizer: pip install 'sacrebleu[ja]' (mecab-python3, "
            f"ipadic) ({e})") from e


def llm_jp_eval_bleu(pred: str, gold: str, lang: str) -> float:
    """llm-jp-eval's per-sample ``bleu_<lang>`` (0–100): the string-as-segment-list call, see the module docstring."""
    if not (pred.strip() and gold.strip()):  # sacrebleu raises IndexError on an empty string
        return float(pred.strip() == gold.strip())
    return float(_bleu(f"llm-jp-eval-{lang}").corpus_score(pred, [gold]).score)


def bleu_ja(pred: str, gold: str) -> float:
    """llm-jp-eval ``bleu_ja`` of one sample (position-aligned characters, ja-mecab per character, 0–100)."""
    return llm_jp_eval_bleu(pred, gold, "ja")


def bleu_en(pred: str, gold: str) -> float:
    """llm-jp-eval ``bleu_en`` of one sample (position-aligned characters, 13a per character, 0–100)."""
    return llm_jp_eval_bleu(pred, gold, "en")


def corpus_bleu(preds: Sequence[str], golds: Sequence[str], lang: str) -> float:
    """Standard corpus-level sacreBLEU (0–100): ``ja-mecab`` for Japanese targets, ``13a`` for English. Not
    llm-jp-eval's metric."""
    if len(preds) != len(golds):
        raise ValueError(f"preds and golds differ in length: {len(preds)} != {len(golds)}")
    if not preds:
        return 0.0
    return float(_bleu("ja-mecab" if lang == "ja" else "13a").corpus_score(list(preds), [list(golds)]).score)


# ---------------------------------------------------------------------------
# ROUGE (llm-jp-eval v1.4 RougeJa)
# ---------------------------------------------------------------------------


class _JapaneseWordTokenizer:
    """rouge_score tokenizer: sacrebleu's ja-mecab (MeCab + IPA dictionary, wakati), split on spaces."""

    def __init__(self) -> None:
        from sacrebleu.tokenizers.tokenizer_ja_mecab import TokenizerJaMecab

        try:
            self._mecab = TokenizerJaMecab()
        except (RuntimeError, ImportError) as e:
            raise MetricUnavailableError(f"ROUGE for Japanese needs pip install 'sacrebleu[ja]' ({e})") from e

    def tokenize(self, text: str) -> list[str]:
        return self._mecab(text).strip().split()


def _add_new_line(text: str) -> str:
    """llm-jp-eval's JapaneseSentenceTokenizer: a newline after each 。！？ unless the text already has one."""
    if "\n" in text:
        return text
    for punct in "。！？":
        text = text.replace(punct, punct + "\n")
    return text


@functools.lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer(rouge_types=list(ROUGE_TYPES), tokenizer=_JapaneseWordTokenizer())


def rouge_scores(pred: str, gold: str) -> dict[str, float]:
    """F-measure (0–1) of rouge1, rouge2 and rougeLsum for one sample."""
    scores = _rouge_scorer().score(target=_add_new_line(gold), prediction=_add_new_line(pred))
    return {rouge_type: float(scores[rouge_type].fmeasure) for rouge_type in ROUGE_TYPES}


def rouge_ja(pred: str, gold: str, rouge_type: str = "rouge2") -> float:
    return rouge_scores(pred, gold)[rouge_type]


# ---------------------------------------------------------------------------
# Options: COMET on by default (it is the MT key metric), BERTScore off (not averaged, heavy)
# ---------------------------------------------------------------------------

_DEFAULTS: dict[str, Any] = {"comet": True, "bert_score": False, "comet_model": COMET_MODEL_ID,
                             "comet_batch_size": COMET_BATCH_SIZE, "comet_gpus": None}
_options: dict[str, Any] = dict(_DEFAULTS)
_comet_scorer: Callable[[list[dict[str, str]]], Sequence[float]] | None = None
_bert_scorer: Callable[[list[str], list[str], str], Sequence[float]] | None = None
_lock = threading.Lock()


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{name} must be true or false, got {value!r}")


def options() -> dict[str, Any]:
    """The options in force (set by :func:`prepare_task`)."""
    return dict(_options)


def reset_options() -> None:
    _options.clear()
    _options.update(_DEFAULTS)


def set_comet_scorer(scorer: Callable[[list[dict[str, str]]], Sequence[float]] | None) -> None:
    """Use ``scorer(data) -> segment scores`` (data: ``[{"src", "mt", "ref"}]``) instead of unbabel-comet, e.g. a
    stub in tests or a COMET served elsewhere. ``None`` restores unbabel-comet."""
    global _comet_scorer
    _comet_scorer = scorer
    _comet_segment_cache.clear()


def set_bert_scorer(scorer: Callable[[list[str], list[str], str], Sequence[float]] | None) -> None:
    """Use ``scorer(preds, golds, lang) -> per-sample F1`` instead of the bert-score package (``None`` restores it)."""
    global _bert_scorer
    _bert_scorer = scorer


def _comet_unavailable_message(reason: str) -> str:
    return (f"comet_wmt22 (llm-jp-eval's MT key metric) cannot be computed: {reason}. It needs the optional package "
            f"unbabel-comet — pip install \"{MT_EXTRA}\" — and the model {_options['comet_model']} (about 2.3 GB, plus "
            f"the xlm-roberta-large tokenizer), downloaded from the Hugging Face Hub on first use. On an offline "
            f"machine (HF_HUB_OFFLINE=1) put both in the Hugging Face cache beforehand (e.g. `huggingface-cli download "
            f"{COMET_MODEL_ID}` and `huggingface-cli download xlm-roberta-large` where there is internet), or pass a "
            f"local checkpoint: --metadata '{{\"jaster_comet_model\": \"/path/to/checkpoints/model.ckpt\"}}'. To run "
            f"the MT tasks with BLEU only, pass --metadata '{{\"jaster_comet\": false}}' (or set {COMET_ENV}=0): "
            f"comet_wmt22 is then not reported and the MT category cannot be computed.")


def comet_status() -> str | None:
    """None when comet_wmt22 can be computed (as far as can be told without loading the model), else why not."""
    if _comet_scorer is not None:
        return None
    if importlib.util.find_spec("comet") is None:
        return "the package unbabel-comet (module 'comet') is not installed"
    return None


def _resolve_comet_model() -> str:
    model = str(_options["comet_model"])
    if os.path.isfile(model):
        return model
    from comet import download_model  # type: ignore[import-not-found]

    return download_model(model)


def require_comet(resolve_model: bool = True) -> None:
    """Raise :class:`MetricUnavailableError` unless comet_wmt22 can be computed. With ``resolve_model``, the model is
    also located (downloaded into the Hugging Face cache if needed and allowed), so an offline machine without it
    fails here rather than after generation."""
    reason = comet_status()
    if reason:
        raise MetricUnavailableError(_comet_unavailable_message(reason))
    if resolve_model and _comet_scorer is None:
        try:
            _resolve_comet_model()
        except Exception as e:  # huggingface_hub / network / missing file: all mean "no model here"
            raise MetricUnavailableError(_comet_unavailable_message(
                f"the model {_options['comet_model']} could not be found or downloaded ({type(e).__name__}: {e})")) from e


def require_bert_score() -> None:
    if _bert_scorer is None and importlib.util.find_spec("bert_score") is None:
        raise MetricUnavailableError(
            "bert_score_*_f1 was asked for (jaster_bert_score: true) but the package bert-score is not installed: "
            "pip install \"bert-score>=0.3.13\" (its default models, roberta-large for English and "
            "bert-base-multilingual-cased for Japanese, are downloaded from the Hugging Face Hub on first use; "
            "offline, HF_HUB_OFFLINE=1 needs them in the cache). Or drop jaster_bert_score.")


def prepare_task(dataset: str | None, metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """Read the metric options of a run and check, before any generation, that the metrics it needs can be computed.

    Called when a task is built (``TextMetricsTask``, used by ``_jaster_translation_yaml`` and
    ``_jaster_summarization_yaml``). Options (``--metadata``): ``jaster_comet`` (default true; env ``JASTER_COMET``),
    ``jaster_comet_model`` (model id or local ``.ckpt``), ``jaster_comet_batch_size``, ``jaster_comet_gpus`` (default:
    1 if CUDA is available, else 0), ``jaster_bert_score`` (default false). They apply to the whole process (lm-eval
    passes the same metadata to every task of a run).
    """
    metadata = metadata or {}
    comet = metadata.get("jaster_comet", os.environ.get(COMET_ENV, True))
    with _lock:
        _options.update({
            "comet": _flag(comet, "jaster_comet"),
            "bert_score": _flag(metadata.get("jaster_bert_score", False), "jaster_bert_score"),
            "comet_model": str(metadata.get("jaster_comet_model") or COMET_MODEL_ID),
            "comet_batch_size": int(metadata.get("jaster_comet_batch_size") or COMET_BATCH_SIZE),
            "comet_gpus": None if metadata.get("jaster_comet_gpus") is None else int(metadata["jaster_comet_gpus"]),
        })
    metrics: tuple[str, ...] = ()
    if dataset:
        from lm_eval_jaster.registry import get_dataset

        metrics = get_dataset(dataset).metrics
    if "comet_wmt22" in metrics:
        if _options["comet"]:
            require_comet(resolve_model=True)
        else:
            logger.warning("%s: comet_wmt22 is switched off (jaster_comet: false): only BLEU is reported and the MT "
                           "category of the llm-jp-eval table cannot be computed.", dataset)
    if _options["bert_score"] and any(m.startswith("bert_score") for m in metrics):
        require_bert_score()
    return options()


# ---------------------------------------------------------------------------
# COMET and BERTScore (corpus-level, computed once per task in the aggregation)
# ---------------------------------------------------------------------------

_comet_models: dict[str, Any] = {}
_comet_segment_cache: dict[tuple[str, str, str, str], float] = {}


def _comet_gpus() -> int:
    if _options["comet_gpus"] is not None:
        return int(_options["comet_gpus"])
    try:
        import torch

        return 1 if torch.cuda.is_available() else 0
    except ImportError:
        return 0


def _comet_segment_scores(data: list[dict[str, str]]) -> list[float]:
    if _comet_scorer is not None:
        return [float(s) for s in _comet_scorer(data)]
    model_id = str(_options["comet_model"])
    if model_id not in _comet_models:
        from comet import load_from_checkpoint  # type: ignore[import-not-found]

        _comet_models[model_id] = load_from_checkpoint(_resolve_comet_model())
    # llm-jp-eval: predict(..., batch_size=8, gpus=0).system_score. gpus only changes float rounding.
    output = _comet_models[model_id].predict(data, batch_size=int(_options["comet_batch_size"]), gpus=_comet_gpus(),
                                             progress_bar=False)
    return [float(s) for s in output.scores]


def comet_wmt22(sources: Sequence[str], preds: Sequence[str], golds: Sequence[str]) -> float:
    """COMET system score (mean of segment scores) of ``Unbabel/wmt22-comet-da`` over (src, mt, ref) triples.

    Segment scores are cached per triple, so the lenient pipeline and ``score`` re-score only what differs."""
    if not (len(sources) == len(preds) == len(golds)):
        raise ValueError("sources, preds and golds differ in length")
    if not preds:
        return 0.0
    require_comet(resolve_model=False)
    model_id = str(_options["comet_model"]) if _comet_scorer is None else f"custom:{id(_comet_scorer)}"
    keys = [(model_id, s, p, g) for s, p, g in zip(sources, preds, golds)]
    todo = list(dict.fromkeys(k for k in keys if k not in _comet_segment_cache))
    if todo:
        scores = _comet_segment_scores([{"src": s, "mt": p, "ref": g} for _, s, p, g in todo])
        if len(scores) != len(todo):
            raise RuntimeError(f"COMET returned {len(scores)} scores for {len(todo)} segments")
        _comet_segment_cache.update(zip(todo, scores))
    return sum(_comet_segment_cache[k] for k in keys) / len(keys)  # = COMET's system_score


def bert_score_f1(preds: Sequence[str], golds: Sequence[str], lang: str) -> float:
    """llm-jp-eval ``bert_score_<lang>_f1``: ``bert_score.score(preds, golds, lang=lang)[2].mean()``."""
    if not preds:
        return 0.0
    if _bert_scorer is not None:
        return float(_mean(float(x) for x in _bert_scorer(list(preds), list(golds), lang)))
    require_bert_score()
    from bert_score import score  # type: ignore[import-not-found]

    return float(score(list(preds), list(golds), lang=lang, verbose=False)[2].mean().item())


# ---------------------------------------------------------------------------
# lm-eval glue
# ---------------------------------------------------------------------------

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@functools.lru_cache(maxsize=1)
def _target_language_by_instruction() -> dict[str, str]:
    from lm_eval_jaster.registry import all_datasets

    found: dict[str, str] = {}
    for info in all_datasets().values():
        lang = "ja" if "bleu_ja" in info.metrics else "en" if "bleu_en" in info.metrics else None
        if lang is not None and found.setdefault(info.instruction, lang) != lang:
            raise RuntimeError(f"two datasets share the instruction of {info.name} but translate into different languages")
    return found


def target_language(doc: Mapping[str, Any]) -> str:
    """"ja" or "en": the target language of the dataset the doc belongs to (looked up by its instruction; a doc
    without a known instruction is judged by its gold's script)."""
    lang = _target_language_by_instruction().get(doc.get("instruction", ""))
    if lang is None:
        lang = "ja" if _JAPANESE.search(doc.get("output", "")) else "en"
    return lang


def process_results_translation(doc: dict, results: list[str]) -> dict[str, Any]:
    """lm-eval ``process_results`` of the MT tasks (``_jaster_translation_yaml``)."""
    pred, gold, lang = str(results[0]), normalize_gold(doc["output"]), target_language(doc)
    result: dict[str, Any] = {f"bleu_{lang}": llm_jp_eval_bleu(pred, gold, lang), "corpus_bleu": [lang, pred, gold]}
    if _options["comet"]:
        result["comet_wmt22"] = result["score"] = [doc["input"], pred, gold]
    if _options["bert_score"]:
        result[f"bert_score_{lang}_f1"] = [lang, pred, gold]
    return with_format_adherence(result, results[0])


def process_results_summarization(doc: dict, results: list[str]) -> dict[str, Any]:
    """lm-eval ``process_results`` of xlsum_ja (``_jaster_summarization_yaml``); ROUGE as fractions."""
    pred, gold = str(results[0]), normalize_gold(doc["output"])
    result: dict[str, Any] = dict(rouge_scores(pred, gold))
    result["score"] = result["rouge2"]
    result["bleu_ja"] = llm_jp_eval_bleu(pred, gold, "ja")
    result["corpus_bleu"] = ["ja", pred, gold]
    if _options["bert_score"]:
        result["bert_score_ja_f1"] = ["ja", pred, gold]
    return with_format_adherence(result, results[0])


def comet_wmt22_aggregation(items: Sequence[Sequence[str]]) -> float:
    """Corpus-level comet_wmt22 over ``[src, pred, gold]`` items."""
    return comet_wmt22([i[0] for i in items], [i[1] for i in items], [i[2] for i in items])


def corpus_bleu_aggregation(items: Sequence[Sequence[str]]) -> float:
    """Corpus-level sacreBLEU over ``[lang, pred, gold]`` items."""
    return corpus_bleu([i[1] for i in items], [i[2] for i in items], items[0][0] if items else "en")


_bert_cache: dict[str, float] = {}


def bert_score_aggregation(items: Sequence[Sequence[str]]) -> float:
    """Corpus-level BERTScore F1 (mean) over ``[lang, pred, gold]`` items, computed once per distinct item list."""
    key = hashlib.sha256(repr([tuple(i) for i in items]).encode("utf-8")).hexdigest()
    if key not in _bert_cache:
        _bert_cache[key] = bert_score_f1([i[1] for i in items], [i[2] for i in items], items[0][0] if items else "ja")
    return _bert_cache[key]


# ---------------------------------------------------------------------------
# The task class of the two templates: checks the optional metrics when the task is built
# ---------------------------------------------------------------------------


def _make_task_class():
    from lm_eval_jaster.task import JasterTask

    class TextMetricsTask(JasterTask):
        """JasterTask that runs :func:`prepare_task` before the data are built, so that an MT task without COMET
        fails at once (not after generation). Redundant once JasterTask itself calls prepare_task."""

        def __init__(self, config: dict | None = None, **kwargs) -> None:
            config = config or {}
            prepare_task((config.get("dataset_kwargs") or {}).get("jaster_dataset"), config.get("metadata"))
            super().__init__(config=config, **kwargs)

    TextMetricsTask.__qualname__ = "TextMetricsTask"
    TextMetricsTask.__module__ = __name__
    return TextMetricsTask


def __getattr__(name: str):  # lazily, so importing the metrics does not import lm-eval's task machinery
    if name == "TextMetricsTask":
        cls = globals()["TextMetricsTask"] = _make_task_class()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
