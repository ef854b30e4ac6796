"""What every dataset module provides: its metadata and a builder of llm-jp-eval's train/dev/test splits.

A dataset module (one per upstream source) defines ``DATASETS: list[DatasetInfo]``; the registry
(:mod:`lm_eval_jaster.registry`) discovers them. ``build(files)`` receives a :class:`RawFiles` for the
module's source and returns ``{"train": [...], "dev": [...], "test": [...]}`` of :class:`Sample`, in
exactly the order llm-jp-eval writes them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol, Sequence, TypeVar

SPLITS = ("train", "dev", "test")
T = TypeVar("T")


@dataclass(frozen=True)
class Sample:
    input: str
    output: str


Splits = dict[str, list[Sample]]


class SplitCandidates(dict):
    """What a builder returns when the upstream files allow several readings (e.g. an unknown file order): label →
    Splits. The data layer keeps the candidate whose dev file has llm-jp-eval's published sha256."""


class RawFiles(Protocol):
    """Verified access to one source's upstream files, addressed by their upstream relative path."""

    source: str

    def path(self, upstream_path: str) -> Path: ...


@dataclass(frozen=True)
class DatasetInfo:
    name: str  # llm-jp-eval's data_name, e.g. "jamp"; the task is "jaster_<name>"
    category: str  # key of lm_eval_jaster.registry.CATEGORIES
    instruction: str
    output_length: int
    metrics: tuple[str, ...]  # llm-jp-eval metric names, key metric first
    source: str  # folder of the raw-data mirror and key in manifest.tsv
    license: str
    homepage: str
    build: Callable[[RawFiles], Splits | SplitCandidates] = field(repr=False, compare=False)
    published_dev_sha256: str | None = None  # llm-jp/scripts sha256sums.csv of the version below
    published_dev_sha256_version: str = "v1.4.1"
    # How a lenient reader should find the answer in free-form output (lm_eval_jaster.lenient):
    # "label" (one of `labels`), "choice" (a choice number), "number", "pairs" (target–polarity lines),
    # "reading" (hiragana), "lines" (set of lines), "text" (free text).
    answer_format: str = "text"
    labels: tuple[str, ...] = ()
    # A regex that every line of a well-formed strict answer fullmatches, for formats whose line layout is the
    # dataset's own (FA, chABSA); "" = the answer format's default rule (lm_eval_jaster.wellformed).
    line_pattern: str = ""
    # The whole answer is one line of such items (wiki_ner: its gold joins the entities with spaces on one line).
    single_line: bool = False
    # Licence forbids commercial use: left out of jaster_all, included in jaster_all_with_nc (llm-jp-eval's
    # all-with-nc / all-without-nc).
    non_commercial: bool = False
    # Counted in llm-jp-eval v1.4.1's AVG. False for datasets that v1.4.1 did not run (they are reported, not averaged).
    in_avg: bool = True
    # Runs model-written code (lm-eval's `unsafe_code`; needs --confirm_run_unsafe_code).
    unsafe_code: bool = False
    # The key metric when it is not the first of `metrics` (whose order is llm-jp-eval's and part of the export).
    key: str = ""

    def __post_init__(self) -> None:
        if self.key and self.key not in self.metrics:
            raise ValueError(f"{self.name}: key metric {self.key!r} is not one of {self.metrics}")

    @property
    def task_name(self) -> str:
        return f"jaster_{self.name.replace('-', '_')}"

    @property
    def key_metric(self) -> str:
        return self.key or self.metrics[0]


def seeded_shuffle(items: list[T], rng: random.Random | None = None) -> list[T]:
    """``random.seed(42); random.shuffle(items)`` as llm-jp-eval does, without touching global state."""
    (rng or random.Random(42)).shuffle(items)
    return items


def split_train_dev(samples: list[Sample], ratio: float = 0.9) -> tuple[list[Sample], list[Sample]]:
    """llm-jp-eval's shuffle-then-cut: ``[:int(n*ratio)]`` train, the rest dev."""
    seeded_shuffle(samples)
    cut = int(len(samples) * ratio)
    return samples[:cut], samples[cut:]


def nli_input(premise: str, hypothesis: str) -> str:
    return f"前提：{premise}\n仮説：{hypothesis}"


class MalformedRecordError(ValueError):
    """A raw record that llm-jp-eval would not skip could not be parsed."""

    def __init__(self, file: Path | str, location: str | int, problem: str):
        where = f"line {location}" if isinstance(location, int) else str(location)
        super().__init__(f"{file}: {where}: {problem}. The file may be corrupted; delete it from the cache "
                         f"(or restore it in JASTER_DATA_DIR) and retry.")


def require_columns(row: Sequence[str], n: int, file: Path | str, line_no: int) -> None:
    if len(row) < n:
        raise MalformedRecordError(file, line_no, f"expected at least {n} tab-separated columns, got {len(row)}")


def read_tsv(path: Path, min_columns: int) -> Iterator[list[str]]:
    """The rows (``line.split("\\t")``, the line's newline kept) of a TSV file with a header line; a row with fewer
    than ``min_columns`` columns is a MalformedRecordError naming the file and line."""
    with path.open(encoding="utf-8") as f:
        next(f)  # header
        for line_no, line in enumerate(f, start=2):
            row = line.split("\t")
            require_columns(row, min_columns, path, line_no)
            yield row


def read_json_lines(path: Path, to_sample: Callable[[dict], Sample], what: str) -> list[Sample]:
    """One Sample per JSON line; a line that is not JSON, or lacks what ``to_sample`` reads, is a
    MalformedRecordError naming the file and line (``what``: e.g. "an AIO record")."""
    samples = []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            try:
                record = json.loads(line.strip())
            except json.JSONDecodeError as e:
                raise MalformedRecordError(path, line_no, f"invalid JSON ({e.msg})") from e
            try:
                samples.append(to_sample(record))
            except (KeyError, IndexError, TypeError) as e:
                raise MalformedRecordError(path, line_no, f"not {what} ({type(e).__name__}: {e})") from e
    return samples


def json_lines(data: bytes, where: Path | str) -> Iterator[tuple[int, object]]:
    """(line number, record) of every non-blank line of UTF-8 JSON-lines bytes, read as ``open()`` reads text
    (universal newlines; a U+2028 inside a JSON string does not end a line). Undecodable text or a line that is not
    JSON is a MalformedRecordError naming ``where`` and the line."""
    try:
        lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8").readlines()
    except UnicodeDecodeError as e:
        raise MalformedRecordError(where, "document", f"not UTF-8 text ({e})") from e
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as e:
            raise MalformedRecordError(where, line_no, f"invalid JSON ({e.msg})") from e


def render_llm_jp_eval_json(info: DatasetInfo, samples: Iterable[Sample]) -> str:
    """The text llm-jp-eval writes as ``evaluation/<split>/<dataset>.json``
    (``json.dump(asdict(OutputInfo), f, ensure_ascii=False, indent=4)``), byte for byte."""
    payload = {
        "instruction": info.instruction,
        "output_length": info.output_length,
        "metrics": list(info.metrics),
        "few_shots": [],
        "samples": [{"input": s.input, "output": s.output} for s in samples],
    }
    return json.dumps(payload, ensure_ascii=False, indent=4)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# An archive member is read into memory whole: a member larger than this (a "zip bomb": a few MB that inflate to GBs)
# is an error, not an exhausted machine. The largest real member (XL-Sum's Japanese train file) is about 60 MB.
MAX_MEMBER_BYTES = 512 * 1024 ** 2


def _too_large(where: str, size: int | str) -> MalformedRecordError:
    return MalformedRecordError(where, "archive", f"member of {size} bytes is larger than the {MAX_MEMBER_BYTES} "
                                                  f"bytes lm-eval-jaster reads from an archive (not the upstream file?)")


def read_zip_member(archive: zipfile.ZipFile, member: str, archive_path: Path | str) -> bytes:
    """``archive.read(member)`` with a size cap (the declared size and the bytes actually inflated)."""
    where = f"{archive_path}!{member}"
    info = archive.getinfo(member)  # KeyError when absent, as archive.read
    if info.file_size > MAX_MEMBER_BYTES:
        raise _too_large(where, info.file_size)
    with archive.open(info) as f:
        data = f.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise _too_large(where, f"more than {MAX_MEMBER_BYTES}")
    return data


def read_tar_member(archive: tarfile.TarFile, member: tarfile.TarInfo, archive_path: Path | str) -> bytes:
    """The bytes of a regular tar member, with a size cap."""
    where = f"{archive_path}!{member.name}"
    if member.size > MAX_MEMBER_BYTES:
        raise _too_large(where, member.size)
    handle = archive.extractfile(member)
    if handle is None:
        raise MalformedRecordError(where, "archive", "not a regular file")
    with handle:
        return handle.read(MAX_MEMBER_BYTES + 1)


def read_gzip(path: Path) -> bytes:
    """The decompressed bytes of a .gz file, with a size cap."""
    with gzip.open(path, "rb") as f:
        data = f.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise _too_large(str(path), f"more than {MAX_MEMBER_BYTES}")
    return data
