"""Child process: scoring throughput of the metrics and filter pipelines on synthetic answers.

    python benchmarks/_scoring.py N REPS

Golds are the real dev+test outputs of the built splits (read from $JASTER_CACHE_DIR, filled by the orchestrator),
drawn with replacement (``random.Random(20240601)``). Predictions are synthetic perturbations of them, so that every
code path runs: 30 % the gold itself, 20 % gold + "\\n\\n" + chatter (cut by ``normalize``), 30 % the gold with ~10 %
of its characters deleted/replaced/inserted (some digits/letters made full-width, for NFKC), 20 % another gold.

Each function is timed over the N items as one loop, REPS times (once only when a loop takes over 2 s); the best
(smallest) loop time is reported (``timeit``'s convention: the others are the same work plus interference). One more pass times every item alone for
the p99 and max per-sample latency. Imports (scipy, sacrebleu, lenient) and each function's first call (lazy
imports, compiled regexes) are done before timing; kana's first call is reported separately.
"""

from __future__ import annotations

import importlib.util
import inspect
import random
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit_json  # noqa: E402

SEED = 20240601
SLOW_LOOP_S = 2.0  # loops slower than this are not repeated
_FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}
_CHATTER = ["以上が回答です。", "理由：入力文から判断しました。", "説明\n- 前提と仮説を比較した。", "Note: answer above."]


def _edit(rng: random.Random, text: str, alphabet: str) -> str:
    chars = list(text)
    for _ in range(max(1, len(chars) // 10)):
        op = rng.random()
        pos = rng.randrange(len(chars) + 1)
        if op < 0.33 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op < 0.66 and chars:
            chars[min(pos, len(chars) - 1)] = rng.choice(alphabet)
        else:
            chars.insert(pos, rng.choice(alphabet))
    out = "".join(chars)
    if rng.random() < 0.3:
        out = "".join(_FULLWIDTH.get(c, c) for c in out)
    return out


def _perturb(rng: random.Random, gold: str, pool: list[str], alphabet: str) -> str:
    r = rng.random()
    if r < 0.3:
        return gold
    if r < 0.5:
        return gold + "\n\n" + rng.choice(_CHATTER)
    if r < 0.8:
        return _edit(rng, gold, alphabet)
    return rng.choice(pool)


def _timed(fn, items, reps: int) -> dict:
    best, done = float("inf"), 0
    for _ in range(reps):
        t = time.perf_counter()
        for args in items:
            fn(*args)
        best = min(best, time.perf_counter() - t)
        done += 1
        if best > SLOW_LOOP_S:  # a slow function: one more loop would not change the picture, only the run time
            break
    singles = []
    for args in items:
        t = time.perf_counter()
        fn(*args)
        singles.append(time.perf_counter() - t)
    singles.sort()
    n = len(items)
    return {"n": n, "total_s": best, "per_sample_us": best / n * 1e6, "samples_per_s": n / best,
            "p99_us": singles[min(n - 1, int(n * 0.99))] * 1e6, "max_us": singles[-1] * 1e6, "loops": done}


def _timed_corpus(fn, preds, golds, reps: int) -> dict:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn(preds, golds)
        best = min(best, time.perf_counter() - t)
    n = len(preds)
    return {"n": n, "total_s": best, "per_sample_us": best / n * 1e6, "samples_per_s": n / best,
            "p99_us": None, "max_us": None}


_NEEDS_MODEL = ("comet", "bert_score")


def _per_sample_metric(name: str):
    """(fn(pred, gold), module name, reason if None) for an llm-jp-eval metric name, wherever the package defines it."""
    from lm_eval_jaster import metrics
    from lm_eval_jaster.metrics import translation

    if callable(getattr(metrics, name, None)):
        return getattr(metrics, name), "metrics", ""
    if any(name.startswith(prefix) for prefix in _NEEDS_MODEL):
        return None, "metrics.neural", "corpus-level, needs a neural model (not available offline)"
    if name in translation.ROUGE_TYPES:
        return (lambda pred, gold: translation.rouge_ja(pred, gold, name)), "metrics.translation", ""
    fn = getattr(translation, name, None)
    if callable(fn):
        try:
            if len(inspect.signature(fn).parameters) == 2:
                return fn, "metrics.translation", ""
        except (TypeError, ValueError):
            pass
    if name == "code_exec":
        return None, "metrics.code", "runs generated code in a sandbox (not a string metric)"
    return None, "metrics", "no per-sample function of that name"


def main() -> None:
    n, reps = int(sys.argv[1]), int(sys.argv[2])
    from lm_eval_jaster import kana, metrics
    from lm_eval_jaster.data import build_splits
    from lm_eval_jaster.registry import all_datasets

    rng = random.Random(SEED)
    infos, golds, inputs, skipped = {}, {}, {}, {}
    for name, info in all_datasets().items():
        try:
            splits = build_splits(info)
        except Exception as e:  # e.g. a dataset whose raw files this machine lacks: reported, not fatal
            skipped[name] = f"{type(e).__name__}: {str(e)[:200]}"
            continue
        samples = [s for split in ("dev", "test") for s in splits[split]]
        if samples:
            infos[name], golds[name], inputs[name] = info, [s.output for s in samples], [s.input for s in samples]
    alphabet = "".join(sorted(set("".join(g for gs in golds.values() for g in gs[:2000]))))
    every_gold = [g for gs in golds.values() for g in gs]

    def draw(names: list[str]) -> list[tuple[str, str, str]]:
        """(dataset, raw prediction, gold) triples; a dataset is chosen uniformly, then one of its golds."""
        out = []
        for _ in range(n):
            name = rng.choice(names)
            gold = rng.choice(golds[name])
            out.append((name, _perturb(rng, gold, golds[name] if len(golds[name]) > 50 else every_gold, alphabet),
                        gold))
        return out

    def prepared(triples):
        return [(metrics.normalize(p), metrics.normalize_gold(g)) for _, p, g in triples]

    def mean_len(names: list[str]) -> float:
        return sum(len(g) for name in names for g in golds[name]) / sum(len(golds[name]) for name in names)

    rows = []

    def add(label: str, data: str, result: dict, llm_jp_eval: bool) -> None:
        rows.append({"function": label, "data": data, "llm_jp_eval": llm_jp_eval, **result})

    everything = draw(list(infos))
    add("metrics.normalize (filter `llm-jp-eval`)", f"raw generations of all {len(infos)} datasets",
        _timed(metrics.normalize, [(p,) for _, p, _ in everything], reps), True)

    # Every llm-jp-eval metric the datasets declare, on the golds of the datasets that use it. Per-sample metrics
    # with both short (mean gold < 50 chars) and long answers get one row each: cost grows with length.
    metric_names = sorted({m for info in infos.values() for m in info.metrics})
    for metric in metric_names:
        users = [name for name, info in infos.items() if metric in info.metrics]
        if metric in ("pearson", "spearman"):  # corpus-level: one call on n (pred, gold) pairs
            pairs = prepared(draw(users))
            preds, gs = [p for p, _ in pairs], [g for _, g in pairs]
            fn = getattr(metrics, metric)
            fn(preds[:10], gs[:10])  # scipy imported before timing
            add(f"metrics.{metric} (corpus, 1 call)", f"{', '.join(users)}: {n} pairs",
                _timed_corpus(fn, preds, gs, reps), True)
            continue
        fn, where, reason = _per_sample_metric(metric)
        if fn is None:
            rows.append({"function": f"{where}.{metric}", "data": ", ".join(users), "llm_jp_eval": True,
                         "n": 0, "total_s": None, "per_sample_us": None, "samples_per_s": None, "p99_us": None,
                         "max_us": None, "note": f"not measured: {reason}"})
            continue
        try:
            fn("テスト", "テスト")  # lazy imports (sacrebleu, MeCab, …) before timing
        except Exception as e:
            rows.append({"function": f"{where}.{metric}", "data": ", ".join(users), "llm_jp_eval": True,
                         "n": 0, "total_s": None, "per_sample_us": None, "samples_per_s": None, "p99_us": None,
                         "max_us": None, "note": f"not measured: {type(e).__name__}: {str(e)[:120]}"})
            continue
        short = [u for u in users if mean_len([u]) < 50]
        long_ = [u for u in users if u not in short]
        for group, kind in ((short, "short answers"), (long_, "long answers")):
            if group:
                add(f"{where}.{metric}", f"{kind} (mean gold {mean_len(group):.0f} chars): {', '.join(group)}",
                    _timed(fn, prepared(draw(group)), reps), True)

    # kana.normalize_reading: a third hiragana readings, a third katakana, a third the kanji text
    reading_triples = draw(["wiki_reading"] if "wiki_reading" in infos else list(infos))
    reading_preds = []
    for i, (name, p, g) in enumerate(reading_triples):
        if i % 3 == 0:
            reading_preds.append((p,))
        elif i % 3 == 1:
            reading_preds.append(("".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in g),))
        else:
            reading_preds.append((rng.choice(inputs[name]),))
    t = time.perf_counter()
    kana.normalize_reading("漢字")  # first call (one-time set-up, if any) timed apart
    first_call = time.perf_counter() - t
    res = _timed(kana.normalize_reading, reading_preds, reps)
    res["first_call_s"] = first_call
    add("kana.normalize_reading", "wiki_reading answers: 1/3 hiragana, 1/3 katakana, 1/3 kanji text", res, False)

    lenient_status = "absent"
    if importlib.util.find_spec("lm_eval_jaster.lenient") is not None:
        try:
            from lm_eval_jaster import lenient

            params = set(inspect.signature(lenient.extract).parameters)
            wrappers = ["{}", "答え：{}", "**{}**", "{}\n\n" + _CHATTER[1], "答えは{}です。", "出力:\n{}"]
            formats: dict[str, list[str]] = {}
            for name, info in infos.items():
                formats.setdefault(info.answer_format, []).append(name)
            for fmt, names in sorted(formats.items()):
                items = []
                for _ in range(n):
                    name = rng.choice(names)
                    k = rng.randrange(len(golds[name]))
                    gold, doc_input = golds[name][k], inputs[name][k]
                    if fmt in ("lines", "pairs") and rng.random() < 0.5:
                        text = "\n".join(f"- {line}" for line in gold.split("\n"))
                    else:
                        text = rng.choice(wrappers).format(gold)
                    kwargs = {}
                    if "labels" in params:
                        kwargs["labels"] = infos[name].labels
                    if "doc" in params:
                        kwargs["doc"] = {"input": doc_input, "output": gold}
                    items.append((text, fmt, kwargs))
                lenient.extract(*items[0][:2], **items[0][2])  # lazy imports/compiled regexes before timing
                res = _timed(lambda text, f, kw: lenient.extract(text, f, **kw), items, reps)
                add(f"lenient.extract[{fmt}]", ", ".join(names), res, False)
            lenient_status = "measured"
        except Exception as e:  # another developer's module, possibly mid-edit: report, do not fail the suite
            lenient_status = f"error: {type(e).__name__}: {e}"

    emit_json({"rows": rows, "lenient": lenient_status, "n": n, "reps": reps, "skipped": skipped,
               "unicodedata": unicodedata.unidata_version})


if __name__ == "__main__":
    main()
