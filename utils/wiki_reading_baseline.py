"""Reference points of jaster_wiki_reading: a dictionary's reading, and an answer that copies the input.

    python utils/wiki_reading_baseline.py [--data-dir DIR]

Not model scores: what a model's char_f1 can be read against. For every dev and test sample:

- dictionary: the prediction is ``lm_eval_jaster.kana.reading(input)`` (fugashi + unidic-lite reading the raw
  sentence token by token), post-processed and scored as llm-jp-eval scores a model's answer (``normalize`` then
  ``char_f1`` against the NFKC gold); mean char_f1 and exact-match rate;
- copy: the input itself as the answer, scored strictly (``normalize``) and in the kana view
  (``kana.normalize_reading``, which forgives katakana but never reads kanji).

Prints one row per split, then the timing. The data directory defaults to $JASTER_DATA_DIR, else ../shared/data
next to the repository; built splits are cached as usual ($JASTER_CACHE_DIR).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # runnable from a checkout without installing

from lm_eval_jaster.data import build_splits  # noqa: E402
from lm_eval_jaster.kana import normalize_reading, reading  # noqa: E402
from lm_eval_jaster.metrics import char_f1, exact_match, normalize, normalize_gold  # noqa: E402

SPLITS = ("dev", "test")


def default_data_dir() -> Path:
    return Path(os.environ.get("JASTER_DATA_DIR") or REPO.parent / "shared" / "data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="raw-data mirror (default: $JASTER_DATA_DIR, else ../shared/data next to the repo)")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or default_data_dir()

    started = time.perf_counter()
    splits = build_splits("wiki_reading", data_dir)
    load_s = time.perf_counter() - started

    rows = []
    read_s = 0.0
    for split in SPLITS:
        samples = splits[split]
        t0 = time.perf_counter()
        preds = [normalize(reading(s.input)) for s in samples]
        read_s += time.perf_counter() - t0
        golds = [normalize_gold(s.output) for s in samples]
        n = len(samples)

        def mean(values) -> float:
            values = list(values)
            return sum(values) / len(values) if values else float("nan")

        f1 = mean(char_f1(p, g) for p, g in zip(preds, golds))
        em = mean(exact_match(p, g) for p, g in zip(preds, golds))
        copy_strict = mean(char_f1(normalize(s.input), g) for s, g in zip(samples, golds))
        copy_kana = mean(char_f1(normalize_reading(s.input), g) for s, g in zip(samples, golds))
        rows.append((split, n, f1, em, copy_strict, copy_kana))

    print(f"wiki_reading reference points (char_f1 against the gold; not model scores); data {data_dir}")
    print(f"{'split':<6} {'samples':>7} {'dictionary':>10} {'exact':>7} {'copy, strict':>12} {'copy, kana view':>15}")
    for split, n, f1, em, copy_strict, copy_kana in rows:
        print(f"{split:<6} {n:>7} {f1:>10.4f} {em:>7.4f} {copy_strict:>12.4f} {copy_kana:>15.4f}")
    print(f"time: splits {load_s:.2f} s, readings {read_s:.2f} s "
          f"({sum(r[1] for r in rows)} samples, tagger start-up included), total {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
