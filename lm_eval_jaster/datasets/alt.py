"""ALT (Asian Language Treebank) English–Japanese parallel corpus: alt-e-to-j, alt-j-to-e. CC BY 4.0. Category MT.

Upstream: https://www2.nict.go.jp/astrec-att/member/mutiyama/ALT/ ALT-Parallel-Corpus-20191206.zip (data_en.txt,
data_ja.txt) and URL-{train,dev,test}.txt; no pinned checksum (used with a warning).
Rules: llm-jp-eval v1.3.0 datasets/alt.py: the official split lists, articles in list order, an article's sentences in
data_ja.txt order when data_en.txt has them too; a pair is kept when len(ja) + len(en) < 500; no shuffle.
Deviations: none known; the sentence order inside an article is inferred, and the build is unchecked against the
published dev sha256 (``lm-eval-jaster export`` checks it where the files are available).
Details: docs/datasets.md#alt
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from lm_eval_jaster.datasets.base import MalformedRecordError, RawFiles, Splits, read_zip_member
from lm_eval_jaster.datasets.translation_pairs import kept, samples, translation_datasets

HOMEPAGE = "https://www2.nict.go.jp/astrec-att/member/mutiyama/ALT/"
ZIP_NAME = "ALT-Parallel-Corpus-20191206.zip"
MEMBER = "ALT-Parallel-Corpus-20191206/data_{lang}.txt"
SPLIT_FILES = {"train": "URL-train.txt", "dev": "URL-dev.txt", "test": "URL-test.txt"}


def _parse_data_file(archive: zipfile.ZipFile, zip_path: Path, lang: str) -> dict[str, dict[str, str]]:
    """data_<lang>.txt → {"URL.<article>": {"SNT.<article>.<sentence>": text}} in file order."""
    member = MEMBER.format(lang=lang)
    where = f"{zip_path}!{member}"
    try:
        raw = read_zip_member(archive, member, zip_path)
    except KeyError:
        raise MalformedRecordError(zip_path, "archive", f"no {member} member") from None
    articles: dict[str, dict[str, str]] = {}
    # Text mode as llm-jp-eval's open(): UTF-8, universal newlines.
    with io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8") as f:
        try:
            for line in f:
                line = line.strip()
                if "\t" not in line:  # empty or id-only lines
                    continue
                sentence_id, text = line.split("\t", 1)
                parts = sentence_id.split(".")
                if len(parts) < 3 or parts[0] != "SNT":
                    continue  # matches no URL.<article> of the split lists, as in llm-jp-eval
                articles.setdefault(f"URL.{parts[1]}", {})[sentence_id] = text.strip()
        except UnicodeDecodeError as e:
            raise MalformedRecordError(where, "document", f"not UTF-8 text ({e})") from e
    if not articles:
        raise MalformedRecordError(where, "document", "no 'SNT.<article>.<sentence><TAB><text>' line")
    return articles


def _parse_split_file(path: Path) -> list[str]:
    """URL-<split>.txt → ["URL.<article>", ...] in file order (the first tab-separated field of each line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise MalformedRecordError(path, "document", f"not UTF-8 text ({e})") from e
    articles = [line.split("\t")[0].strip() for line in lines if line.strip()]
    if not any(a.startswith("URL.") for a in articles):
        raise MalformedRecordError(path, "document", "no 'URL.<article><TAB><url>' line; not an ALT split list")
    return articles


def sentence_pairs(files: RawFiles) -> dict[str, list[tuple[str, str]]]:
    """(ja, en) pairs per split, llm-jp-eval's order, before the length filter."""
    zip_path = files.path(ZIP_NAME)
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as e:
        raise MalformedRecordError(zip_path, "archive", f"not a zip file ({e})") from e
    with archive:
        en = _parse_data_file(archive, zip_path, "en")
        ja = _parse_data_file(archive, zip_path, "ja")
    pairs = {}
    for split, name in SPLIT_FILES.items():
        pairs[split] = [(ja_text, en[article][sentence_id])
                        for article in _parse_split_file(files.path(name))
                        if article in ja and article in en
                        for sentence_id, ja_text in ja[article].items() if sentence_id in en[article]]
    return pairs


def _builder(japanese_to_english: bool):
    def build(files: RawFiles) -> Splits:
        return {split: samples(kept(pairs), japanese_to_english) for split, pairs in sentence_pairs(files).items()}

    return build


DATASETS = translation_datasets(
    "alt", source="alt", license="CC BY 4.0", homepage=HOMEPAGE, builder=_builder, output_lengths=(250, 500),
    dev_sha256=("796a834af5a60e5969d31626a1c2e60477bede8b8279c438f33952a38389cb83",
                "968bf42ca791f6bdb7d47d4147fc5fe04e68f3495780aef8f294a8e4a993c5d7"))
