"""Model-based MT metrics: COMET (``comet_wmt22``, llm-jp-eval's MT key metric) and BERTScore. Both are optional.

COMET runs in this interpreter when unbabel-comet is installed, or in another one (``comet_python``: a venv that has
it, since unbabel-comet pins numpy<2 and transformers<5) through :mod:`comet_worker`, one process per run. Without
either, the MT tasks still run and report BLEU; comet_wmt22 is reported missing with the reason. Options come from
the run's settings (:class:`NeuralOptions`), passed to each function. Definitions: docs/metrics.md.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.util
import json
import logging
import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any, Callable, Sequence

from lm_eval_jaster.errors import JasterError

logger = logging.getLogger("lm_eval.jaster")

__all__ = [
    "COMET_MODEL_ID", "MT_EXTRA", "MetricUnavailableError", "NeuralOptions",
    "comet_unavailable_reason", "comet_in_use", "require_comet", "comet_wmt22", "comet_wmt22_aggregation",
    "cached_segment_scores",
    "bert_score_unavailable_reason", "bert_score_f1", "bert_score_aggregation",
    "set_comet_scorer", "set_bert_scorer",
]

COMET_MODEL_ID = "Unbabel/wmt22-comet-da"
MT_EXTRA = "lm-eval-jaster[mt]"
WORKER = Path(__file__).with_name("comet_worker.py")


class MetricUnavailableError(JasterError):
    """An optional metric was required but cannot be computed; the message says why and the hint what to do."""


@dataclass(frozen=True)
class NeuralOptions:
    comet: bool | str = "auto"  # "auto": when available; True: required; False: off
    comet_python: str | None = None
    comet_model: str = COMET_MODEL_ID
    comet_batch_size: int = 8  # llm-jp-eval's
    comet_gpus: int | None = None
    bert_score: bool = False

    @classmethod
    def from_settings(cls, settings: Any) -> "NeuralOptions":
        return cls(comet=settings.comet, comet_python=settings.comet_python, comet_model=settings.comet_model,
                   comet_batch_size=settings.comet_batch_size, comet_gpus=settings.comet_gpus,
                   bert_score=settings.bert_score)


def _default_options() -> NeuralOptions:
    from lm_eval_jaster import settings

    return NeuralOptions.from_settings(settings.resolve(strict=False))


# --- test hooks / scorers served elsewhere -------------------------------------------------------------------------

_comet_scorer: Callable[[list[dict[str, str]]], Sequence[float]] | None = None
_bert_scorer: Callable[[list[str], list[str], str], Sequence[float]] | None = None
_segment_cache: dict[tuple[str, str, str, str], float] = {}
_lock = threading.Lock()


def set_comet_scorer(scorer: Callable[[list[dict[str, str]]], Sequence[float]] | None) -> None:
    """Use ``scorer(data) -> segment scores`` (data: ``[{"src", "mt", "ref"}]``) instead of unbabel-comet (a stub in
    tests, or a COMET served elsewhere). ``None`` restores unbabel-comet."""
    global _comet_scorer
    _comet_scorer = scorer
    _segment_cache.clear()


def set_bert_scorer(scorer: Callable[[list[str], list[str], str], Sequence[float]] | None) -> None:
    """Use ``scorer(preds, golds, lang) -> per-sample F1`` instead of the bert-score package (``None`` restores it)."""
    global _bert_scorer
    _bert_scorer = scorer


# --- availability --------------------------------------------------------------------------------------------------

def _comet_hint(options: NeuralOptions) -> str:
    return (f"Install it (pip install \"{MT_EXTRA}\"; it pins numpy<2 and transformers<5), or point "
            f"JASTER_COMET_PYTHON (--metadata jaster_comet_python) at the python of a separate venv that has "
            f"unbabel-comet. The model {options.comet_model} is downloaded on first use (offline: put it in the "
            f"Hugging Face cache, or pass a local .ckpt as jaster_comet_model).")


@functools.lru_cache(maxsize=8)
def _python_has_comet(python: str) -> str | None:
    """None when ``python`` runs the worker's check, else why not."""
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        return f"the interpreter {python} (comet_python) does not exist or is not executable"
    try:
        run = subprocess.run([python, str(WORKER), "--check"], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as e:
        return f"the interpreter {python} (comet_python) could not run ({e})"
    if run.returncode != 0:
        tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"unbabel-comet cannot be imported by {python} (comet_python): {tail[0]}"
    return None


def comet_unavailable_reason(options: NeuralOptions) -> str | None:
    """None when comet_wmt22 can be computed (as far as can be told without loading the model), else why not."""
    if options.comet is False:
        return "switched off (jaster_comet: false)"
    if _comet_scorer is not None:
        return None
    if options.comet_python:
        return _python_has_comet(options.comet_python)
    if importlib.util.find_spec("comet") is None:
        return "the package unbabel-comet is not installed"
    return None


def comet_in_use(options: NeuralOptions) -> bool:
    """Whether comet_wmt22 is computed in this run ("auto" means: when it is available)."""
    return options.comet is True or (options.comet == "auto" and comet_unavailable_reason(options) is None)


def require_comet(options: NeuralOptions, resolve_model: bool = True) -> None:
    """Raise MetricUnavailableError unless comet_wmt22 can be computed. With ``resolve_model`` (in-process COMET),
    the model is also located, so that an offline machine without it fails before generation."""
    reason = comet_unavailable_reason(options)
    if reason:
        raise MetricUnavailableError(f"comet_wmt22 was required (jaster_comet: true) but cannot be computed: "
                                     f"{reason}.", _comet_hint(options))
    if resolve_model and _comet_scorer is None and not options.comet_python:
        try:
            _resolve_comet_model(options.comet_model)
        except Exception as e:  # huggingface_hub / network / missing file: all mean "no model here"
            raise MetricUnavailableError(
                f"comet_wmt22: the model {options.comet_model} could not be found or downloaded "
                f"({type(e).__name__}: {e}).", _comet_hint(options)) from e


def bert_score_unavailable_reason(options: NeuralOptions) -> str | None:
    if not options.bert_score:
        return "not asked for (jaster_bert_score: false)"
    if _bert_scorer is None and importlib.util.find_spec("bert_score") is None:
        return "the package bert-score is not installed (pip install \"lm-eval-jaster[bertscore]\")"
    return None


# --- COMET -----------------------------------------------------------------------------------------------------------

_comet_models: dict[str, Any] = {}


def _resolve_comet_model(model: str) -> str:
    if os.path.isfile(model):
        return model
    from comet import download_model  # type: ignore[import-not-found]

    return download_model(model)


def _gpus(options: NeuralOptions) -> int:
    if options.comet_gpus is not None:
        return int(options.comet_gpus)
    try:
        import torch

        return 1 if torch.cuda.is_available() else 0
    except ImportError:
        return 0


class _Worker:
    """One comet_worker.py process in another interpreter, kept for the run: JSON lines in, JSON lines out."""

    def __init__(self, python: str) -> None:
        self.python = python
        self.proc = subprocess.Popen([python, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, encoding="utf-8", bufsize=1)
        atexit.register(self.close)

    def score(self, request: dict[str, Any]) -> list[float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise MetricUnavailableError(f"the COMET worker ({self.python} {WORKER}) exited (status "
                                         f"{self.proc.wait()}) without scores.", "Its error is printed above.")
        reply = json.loads(line)
        if "error" in reply:
            raise MetricUnavailableError(f"the COMET worker ({self.python}) failed: {reply['error']}",
                                         _comet_hint(NeuralOptions()))
        return [float(s) for s in reply["scores"]]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()


_workers: dict[str, _Worker] = {}


def _segment_scores(data: list[dict[str, str]], options: NeuralOptions) -> list[float]:
    if _comet_scorer is not None:
        return [float(s) for s in _comet_scorer(data)]
    if options.comet_python:
        worker = _workers.get(options.comet_python)
        if worker is None or worker.proc.poll() is not None:
            worker = _workers[options.comet_python] = _Worker(options.comet_python)
        return worker.score({"model": options.comet_model, "batch_size": options.comet_batch_size,
                             "gpus": options.comet_gpus, "data": data})
    if options.comet_model not in _comet_models:
        from comet import load_from_checkpoint  # type: ignore[import-not-found]

        _comet_models[options.comet_model] = load_from_checkpoint(_resolve_comet_model(options.comet_model))
    # llm-jp-eval: predict(..., batch_size=8, gpus=0).system_score; gpus only changes float rounding.
    output = _comet_models[options.comet_model].predict(data, batch_size=options.comet_batch_size,
                                                        gpus=_gpus(options), progress_bar=False)
    return [float(s) for s in output.scores]


def comet_wmt22(sources: Sequence[str], preds: Sequence[str], golds: Sequence[str],
                options: NeuralOptions | None = None) -> float:
    """COMET system score (mean of segment scores) over (src, mt, ref) triples. Segment scores are cached per
    triple, so the lenient pipeline and ``score`` re-score only what differs."""
    options = options or _default_options()
    if not (len(sources) == len(preds) == len(golds)):
        raise ValueError("sources, preds and golds differ in length")
    if not preds:
        return 0.0
    scorer = (f"custom:{id(_comet_scorer)}" if _comet_scorer is not None
              else f"{options.comet_python or 'in-process'}:{options.comet_model}")
    keys = [(scorer, s, p, g) for s, p, g in zip(sources, preds, golds)]
    with _lock:
        todo = list(dict.fromkeys(k for k in keys if k not in _segment_cache))
        if todo:
            scores = _segment_scores([{"src": s, "mt": p, "ref": g} for _, s, p, g in todo], options)
            if len(scores) != len(todo):
                raise RuntimeError(f"COMET returned {len(scores)} scores for {len(todo)} segments")
            _segment_cache.update(zip(todo, scores))
        return sum(_segment_cache[k] for k in keys) / len(keys)  # = COMET's system_score


def cached_segment_scores(items: Sequence[Sequence[str]]) -> list[float] | None:
    """The segment scores of ``[src, pred, gold]`` items already scored in this process (their mean is the system
    score), or None if some were not; for the bootstrap intervals."""
    with _lock:
        by_triple = {key[1:]: value for key, value in _segment_cache.items()}
    try:
        return [by_triple[tuple(item)] for item in items]
    except (KeyError, TypeError):
        return None


def comet_wmt22_aggregation(items: Sequence[Sequence[str]], options: NeuralOptions | None = None) -> float:
    """Corpus-level comet_wmt22 over ``[src, pred, gold]`` items."""
    return comet_wmt22([i[0] for i in items], [i[1] for i in items], [i[2] for i in items], options)


# --- BERTScore -------------------------------------------------------------------------------------------------------

_bert_cache: dict[str, float] = {}


def bert_score_f1(preds: Sequence[str], golds: Sequence[str], lang: str) -> float:
    """llm-jp-eval ``bert_score_<lang>_f1``: ``bert_score.score(preds, golds, lang=lang)[2].mean()``."""
    if not preds:
        return 0.0
    if _bert_scorer is not None:
        return float(mean(float(x) for x in _bert_scorer(list(preds), list(golds), lang)))
    from bert_score import score  # type: ignore[import-not-found]

    return float(score(list(preds), list(golds), lang=lang, verbose=False)[2].mean().item())


def bert_score_aggregation(items: Sequence[Sequence[str]], options: NeuralOptions | None = None) -> float:
    """Corpus-level BERTScore F1 (mean) over ``[lang, pred, gold]`` items, computed once per distinct item list."""
    key = hashlib.sha256(repr([tuple(i) for i in items]).encode("utf-8")).hexdigest()
    if key not in _bert_cache:
        _bert_cache[key] = bert_score_f1([i[1] for i in items], [i[2] for i in items], items[0][0] if items else "ja")
    return _bert_cache[key]
