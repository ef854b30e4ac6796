"""Build one dataset's splits in a fresh process (tests/test_reliability.py runs several at once): prints BUILT
for each build it did and DIGEST <sha256 of the splits>. ``--manifest FILE`` reads the raw-file manifest from FILE.

    python build_splits_child.py DATASET DATA_DIR [--manifest FILE]
"""
import hashlib
import json
import sys
from pathlib import Path

if "--manifest" in sys.argv:
    import lm_eval_jaster.sources as sources

    sources.MANIFEST_PATH = Path(sys.argv[sys.argv.index("--manifest") + 1])

import lm_eval_jaster.data as data  # noqa: E402

original = data._build


def counting(info, data_dir):
    print("BUILT", flush=True)
    return original(info, data_dir)


data._build = counting
splits = data.build_splits(sys.argv[1], sys.argv[2] or None)
text = json.dumps({k: [[s.input, s.output] for s in v] for k, v in splits.items()}, ensure_ascii=False)
print("DIGEST", hashlib.sha256(text.encode()).hexdigest(), flush=True)
