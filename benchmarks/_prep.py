"""Child process: prepare (build or read from the cache) some Jaster datasets and report timings as JSON.

    python benchmarks/_prep.py DATASET[,DATASET...] [--count-knp]

Environment: JASTER_DATA_DIR (the mirror), JASTER_CACHE_DIR (empty = cold, filled = warm), JASTER_BENCH_PINS.
Imports are done (and timed) before any dataset is prepared, so the per-dataset seconds are data work only:
``lm_eval_jaster.data.build_splits`` (raw files → verified → parsed → split → cached JSON, or the cached JSON read
back and checked). With ``--count-knp``, ``rhoknp.Document.from_knp`` is wrapped to count the .knp parses.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import apply_pins, emit_json  # noqa: E402


def main() -> None:
    names = [n for n in sys.argv[1].split(",") if n]
    count_knp = "--count-knp" in sys.argv[2:]
    t0 = time.perf_counter()
    from lm_eval_jaster.data import build_splits
    from lm_eval_jaster.registry import all_datasets, get_dataset

    all_datasets()  # imports every dataset module (rhoknp included)
    apply_pins()
    import_s = time.perf_counter() - t0

    calls = {"n": 0}
    if count_knp:
        import rhoknp

        original = rhoknp.Document.from_knp.__func__

        def counting_from_knp(cls, *args, **kwargs):
            calls["n"] += 1
            return original(cls, *args, **kwargs)

        rhoknp.Document.from_knp = classmethod(counting_from_knp)

    rows = []
    for name in names:
        info = get_dataset(name)
        started = time.perf_counter()
        try:
            splits = build_splits(info)
        except Exception as e:  # reported per dataset (e.g. a raw file the mirror lacks); the others still run
            rows.append({"dataset": name, "seconds": time.perf_counter() - started, "samples": None,
                         "error": f"{type(e).__name__}: {str(e)[:300]}"})
            continue
        rows.append({"dataset": name, "seconds": time.perf_counter() - started,
                     "samples": {s: len(v) for s, v in splits.items()}})
    emit_json({"import_s": import_s, "rows": rows, "knp_parses": calls["n"] if count_knp else None,
               "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


if __name__ == "__main__":
    main()
