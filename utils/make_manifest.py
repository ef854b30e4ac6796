"""Regenerate lm_eval_jaster/manifest.tsv from a raw-data mirror's SOURCE.txt files.

    python utils/make_manifest.py ../shared/data

Every upstream data file gets its llm-jp-eval URL and its sha256 (and git blob sha1). Files the mirror
lacks are listed by the mirror with their git blob sha1 only; sources with no mirror at all are appended
from EXTRA_ENTRIES (sha256 unknown: see the README's "Data integrity" section).
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADER = ["source", "upstream_path", "url", "sha256", "git_blob_sha1", "bytes"]

EXTRA_DIR = Path(__file__).resolve().parent / "manifest_extra"


def extra_entries() -> list[list[str]]:
    """Rows for sources that the mirror does not hold, one TSV per source (header = HEADER)."""
    rows = []
    for path in sorted(EXTRA_DIR.glob("*.tsv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if lines[0].split("\t") != HEADER:
            raise SystemExit(f"{path}: header must be {HEADER}")
        rows += [line.split("\t") for line in lines[1:] if line.strip()]
    return rows


def parse_source_txt(source: str, text: str) -> list[list[str]]:
    rows, section = [], None
    for line in text.splitlines():
        if line.startswith("# data files"):
            section = "data"
        elif line.startswith("# MISSING"):
            section = "missing"
        elif line.startswith("#"):
            section = None
        elif line.strip() and section == "data":
            path, url, sha256, size, blob = line.split("\t")
            rows.append([source, path, url, sha256, blob, size])
        elif line.strip() and section == "missing":
            path, blob, _reason, url = line.split("\t")
            rows.append([source, path, url, "", blob, ""])
    return rows


def main(mirror: str) -> None:
    rows = []
    for source_txt in sorted(Path(mirror).glob("*/SOURCE.txt")):
        rows += parse_source_txt(source_txt.parent.name, source_txt.read_text(encoding="utf-8"))
    rows += extra_entries()
    out = Path(__file__).resolve().parents[1] / "lm_eval_jaster" / "manifest.tsv"
    out.write_text("\n".join("\t".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} entries to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
