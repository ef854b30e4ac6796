"""llm-jp-eval's translation (MT) and summarization (SUM) metrics: BLEU as llm-jp-eval computes it, a proper corpus
BLEU beside it, and v1.4's Japanese ROUGE. Definitions and deliberate differences: docs/metrics.md.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping, Sequence

from lm_eval_jaster.errors import JasterError
from lm_eval_jaster.metrics.llm_jp_eval import normalize_gold

__all__ = [
    "bleu_ja", "bleu_en", "llm_jp_eval_bleu", "corpus_bleu", "rouge_ja", "rouge_scores",
    "score_translation", "score_summarization", "corpus_bleu_aggregation",
]

ROUGE_TYPES = ("rouge1", "rouge2", "rougeLsum")


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
        raise JasterError(f"BLEU for Japanese needs sacrebleu's MeCab tokenizer ({e}).",
                         "pip install 'sacrebleu[ja]' (mecab-python3, ipadic).") from e


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
            raise JasterError(f"ROUGE for Japanese needs sacrebleu's MeCab tokenizer ({e}).",
                             "pip install 'sacrebleu[ja]'.") from e

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
# Per-sample values for lm-eval
# ---------------------------------------------------------------------------


def score_translation(answer: str, doc: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """bleu_<lang> per sample and the corpus_bleu item of an MT sample (COMET is added by metrics.neural)."""
    pred, gold = str(answer), normalize_gold(doc["output"])
    return {f"bleu_{lang}": llm_jp_eval_bleu(pred, gold, lang), "corpus_bleu": [lang, pred, gold]}


def score_summarization(answer: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """ROUGE (fractions; rouge2 is the key metric), bleu_ja and the corpus_bleu item of an xlsum_ja sample."""
    pred, gold = str(answer), normalize_gold(doc["output"])
    result: dict[str, Any] = dict(rouge_scores(pred, gold))
    result["score"] = result["rouge2"]
    result["bleu_ja"] = llm_jp_eval_bleu(pred, gold, "ja")
    result["corpus_bleu"] = ["ja", pred, gold]
    return result


def corpus_bleu_aggregation(items: Sequence[Sequence[str]]) -> float:
    """Corpus-level sacreBLEU over ``[lang, pred, gold]`` items."""
    return corpus_bleu([i[1] for i in items], [i[2] for i in items], items[0][0] if items else "en")
