"""Dictionary baseline of jaster_wiki_reading: how fugashi + unidic-lite's own reading scores against the gold.

    python utils/wiki_reading_baseline.py [--data-dir DIR]

For every dev and test sample, the prediction is ``lm_eval_jaster.kana.reading(input)`` (the raw sentence
text read token by token); it is post-processed and scored as llm-jp-eval scores a model's answer
(``normalize`` then ``char_f1`` against the NFKC gold). Prints split, samples, mean char_f1 and the
exact-match rate, then the timing. The data directory defaults to $JASTER_DATA_DIR, else ../shared/data
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
from lm_eval_jaster.kana import reading  # noqa: E402
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
        f1 = sum(char_f1(p, g) for p, g in zip(preds, golds)) / n if n else float("nan")
        em = sum(exact_match(p, g) for p, g in zip(preds, golds)) / n if n else float("nan")
        rows.append((split, n, f1, em))

    print(f"wiki_reading dictionary baseline: char_f1(reading(input), gold), fugashi + unidic-lite; data {data_dir}")
    print(f"{'split':<6} {'samples':>7} {'char_f1':>8} {'exact':>7}")
    for split, n, f1, em in rows:
        print(f"{split:<6} {n:>7} {f1:>8.4f} {em:>7.4f}")
    print(f"time: splits {load_s:.2f} s, readings {read_s:.2f} s "
          f"({sum(r[1] for r in rows)} samples, tagger start-up included), total {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
