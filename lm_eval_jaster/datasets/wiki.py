"""Wikipedia Annotated Corpus (ku-nlp/WikipediaAnnotatedCorpus): Jaster's five FA datasets. CC BY-SA 4.0. Category FA.

Upstream: github.com/ku-nlp/WikipediaAnnotatedCorpus, tag v1.1.2: id/{train,dev,test}.id, knp/<id[:8]>/<id>.knp.
Rules: llm-jp-eval v1.3.0 datasets/wiki/*.py: official id lists (no shuffle), documents in sorted file-name order,
parsed with rhoknp 1.7.0; a document whose output is empty after strip() is dropped from that dataset.
Deviations: none (all five dev files equal llm-jp-eval v1.4.1's published sha256).
Details: docs/datasets.md#wiki
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Callable

from rhoknp import BasePhrase, Document
from rhoknp.cohesion import EndophoraArgument, Predicate
from rhoknp.props import NamedEntityCategory

from lm_eval_jaster.datasets.base import SPLITS, DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits

SOURCE = "wikipedia_annotated_corpus"
LICENSE = "CC BY-SA 4.0"
HOMEPAGE = "https://github.com/ku-nlp/WikipediaAnnotatedCorpus"

# llm-jp-eval silences rhoknp's warnings about annotation it cannot resolve; so do we.
logging.getLogger("rhoknp").setLevel(logging.ERROR)

# A parenthetical is stored as its own sentence right after the sentence it was cut from.
_PAREN_START = "括弧始"  # misc_comment of the parenthetical sentence
_PAREN_REMOVED = "括弧削除"  # misc_comment of the sentence the parenthetical was removed from
_PAREN_PATTERN = re.compile(r"括弧始:(\S+) 括弧終:(\S+) 括弧位置:(\d+)")

# Morphemes trimmed from both ends of a mention / argument (and from the start of a predicate).
_FUNCTIONAL_POS = ("助詞", "特殊", "判定詞")


# ----------------------------------------------------------------------------------------------- shared helpers


def _text_without_parentheticals(document: Document) -> str:
    """Concatenated text of the sentences that are not parentheticals (reading, dependency, coreference)."""
    return "".join(s.text for s in document.sentences if _PAREN_START not in s.misc_comment)


def _text_with_parentheticals(document: Document) -> str:
    """Concatenated text with each parenthetical put back where it was cut out (ner, pas).

    llm-jp-eval: when a sentence's comment contains 括弧削除, the *next* sentence is taken as its parenthetical
    and ``text[:pos] + 括弧始 + paren.text + 括弧終 + text[pos:]`` is emitted.
    """
    out = ""
    sentences = iter(document.sentences)
    while (sentence := next(sentences, None)) is not None:
        text = sentence.text
        if _PAREN_REMOVED in sentence.misc_comment:
            paren = next(sentences)
            match = _PAREN_PATTERN.search(paren.misc_comment)
            if match is None:
                raise ValueError(f"sentence {paren.sid} follows a 括弧削除 sentence but has no 括弧位置 comment")
            start, end, pos = match.group(1), match.group(2), int(match.group(3))
            text = text[:pos] + start + paren.text + end + text[pos:]
        out += text
    return out


def _trim(morphemes: list, leading: tuple[str, ...], trailing: tuple[str, ...]) -> str:
    """Join morphemes after stripping leading/trailing ones whose POS is listed; unstripped if nothing remains."""
    start, end = 0, len(morphemes)
    while start < end and morphemes[start].pos in leading:
        start += 1
    while end > start and morphemes[end - 1].pos in trailing:
        end -= 1
    text = "".join(m.text for m in morphemes[start:end])
    return text or "".join(m.text for m in morphemes)


def _subtree(base_phrase: BasePhrase) -> list[BasePhrase]:
    """The base phrase and all its (transitive) dependents."""
    nodes = [base_phrase]
    for child in base_phrase.children:
        nodes.extend(_subtree(child))
    return nodes


def _mention_text(base_phrase: BasePhrase) -> str:
    """llm-jp-eval's ``convert_base_phrase_to_text``: a PAS argument or coreference mention as text.

    The base phrase is extended with its dependents that are contiguous with it inside the same 文節 (searching
    forwards, then backwards, stopping at the first non-dependent), and functional morphemes are trimmed at both ends.
    """
    siblings = base_phrase.phrase.base_phrases
    anchor = siblings.index(base_phrase)
    dependents = _subtree(base_phrase)
    expanded = [base_phrase]
    for i in range(anchor + 1, len(siblings)):
        if siblings[i] not in dependents:
            break
        expanded.append(siblings[i])
    for i in reversed(range(anchor)):
        if siblings[i] not in dependents:
            break
        expanded.append(siblings[i])
    expanded.sort(key=lambda bp: bp.index)
    morphemes = [m for bp in expanded for m in bp.morphemes]
    return _trim(morphemes, _FUNCTIONAL_POS, _FUNCTIONAL_POS)


# ----------------------------------------------------------------------------------------------- one function per task

_ALPHABET_READINGS = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "えー びー しー でぃー いー えふ じー えいち あい じぇー けー える えむ えぬ おー ぴー きゅー あーる えす "
        "てぃー ゆー ぶい だぶりゅー えっくす わい ぜっと".split(),
    )
)


def _morpheme_reading(morpheme) -> str:
    # 熟字訓: the reading is carried by a neighbouring morpheme and this one reads as a space.
    if morpheme.reading in (" ", "　") and morpheme.text not in (" ", "　"):
        return ""
    # Alternative readings are written "にほん/にっぽん"; the first one is used.
    reading = morpheme.reading.split("/")[0]
    # Latin capitals are read by their letter names.
    if all(c in _ALPHABET_READINGS for c in reading):
        return "".join(_ALPHABET_READINGS[c] for c in reading)
    return reading


def reading_sample(document: Document) -> Sample:
    """wiki_reading: text (parentheticals dropped) -> concatenated hiragana readings of its morphemes."""
    kept = [s for s in document.sentences if _PAREN_START not in s.misc_comment]
    reading = "".join(_morpheme_reading(m) for s in kept for m in s.morphemes)
    return Sample(input=_text_without_parentheticals(document), output=reading)


_NE_CATEGORY_NAMES = {
    NamedEntityCategory.ORGANIZATION: "組織名",
    NamedEntityCategory.PERSON: "人名",
    NamedEntityCategory.LOCATION: "地名",
    NamedEntityCategory.ARTIFACT: "固有物名",
    NamedEntityCategory.DATE: "日付表現",
    NamedEntityCategory.TIME: "時刻表現",
    NamedEntityCategory.MONEY: "金額表現",
    NamedEntityCategory.PERCENT: "割合表現",
}


def ner_sample(document: Document) -> Sample:
    """wiki_ner: text (parentheticals resurrected) -> "固有表現（種類）" items joined by " " in rhoknp order, OPTIONAL skipped."""
    entities = [
        f"{ne.text}（{_NE_CATEGORY_NAMES[ne.category]}）"
        for ne in document.named_entities
        if ne.category != NamedEntityCategory.OPTIONAL
    ]
    return Sample(input=_text_with_parentheticals(document), output=" ".join(entities))


def dependency_sample(document: Document) -> Sample:
    """wiki_dependency: text (parentheticals dropped) -> "文節 -> 係り先文節" lines for every 文節 that has a parent."""
    lines = [
        f"{phrase.text} -> {phrase.parent.text}"
        for sentence in document.sentences
        if _PAREN_START not in sentence.misc_comment
        for phrase in sentence.phrases
        if phrase.parent is not None
    ]
    return Sample(input=_text_without_parentheticals(document), output="\n".join(lines))


# Cases emitted, in this order; ガ２ is printed as ガ.
_PAS_CASES = ("ガ", "デ", "ト", "ニ", "ヘ", "ヲ", "カラ", "ガ２", "マデ", "ヨリ")


def _predicate_text(predicate: Predicate) -> str:
    """The predicate's 文節 minus leading 助詞/特殊/判定詞 and trailing 助詞/特殊 morphemes."""
    return _trim(list(predicate.phrase.morphemes), _FUNCTIONAL_POS, ("助詞", "特殊"))


def pas_sample(document: Document) -> Sample:
    """wiki_pas: text (parentheticals resurrected) -> "述語 ガ：項 ヲ：項" lines.

    Only endophoric arguments (``relax=False``) outside the predicate's own 文節 are listed; a line is emitted only
    when both the predicate text and at least one argument are present.
    """
    lines = []
    for pas in document.pas_list:
        arguments = ""
        for case in _PAS_CASES:
            for argument in pas.get_arguments(case, relax=False):
                if not isinstance(argument, EndophoraArgument):
                    continue
                if argument.phrase == pas.predicate.phrase:
                    continue
                case_text = "ガ" if case == "ガ２" else case
                arguments += f" {case_text}：{_mention_text(argument.base_phrase)}"
        predicate = _predicate_text(pas.predicate)
        if predicate and arguments:
            lines.append(predicate + arguments)
    return Sample(input=_text_with_parentheticals(document), output="\n".join(lines))


def coreference_sample(document: Document) -> Sample:
    """wiki_coreference: text (parentheticals dropped) -> one line per entity cluster of >= 2 mentions.

    llm-jp-eval rebuilds a Document from the kept sentences (so links into dropped parentheticals vanish), groups
    base phrases by the sorted tuple of their entity ids, and renders each mention like a PAS argument, in
    ``global_index`` order.
    """
    kept = Document.from_sentences([s for s in document.sentences if _PAREN_START not in s.misc_comment])
    clusters: dict[tuple[int, ...], list[BasePhrase]] = defaultdict(list)
    for base_phrase in kept.base_phrases:
        if not base_phrase.entities:
            continue
        key = tuple(sorted(entity.eid for entity in base_phrase.entities))
        if base_phrase not in clusters[key]:
            clusters[key].append(base_phrase)
    lines = [
        " ".join(_mention_text(bp) for bp in sorted(mentions, key=lambda bp: bp.global_index))
        for mentions in clusters.values()
        if len(mentions) >= 2
    ]
    return Sample(input=kept.text, output="\n".join(lines))


_TASKS: dict[str, Callable[[Document], Sample]] = {
    "wiki_reading": reading_sample,
    "wiki_ner": ner_sample,
    "wiki_dependency": dependency_sample,
    "wiki_pas": pas_sample,
    "wiki_coreference": coreference_sample,
}

# ----------------------------------------------------------------------------------------------- corpus, parsed once

# The corpus is parsed once per process: the first builder call parses every document and derives the samples of all
# five datasets; the other builders read them from here.
# key: the resolved paths of the id lists and of every document -> {dataset name: splits}
_CACHE: dict[tuple[Path, ...], dict[str, Splits]] = {}


def _parse_document(path: Path) -> Document:
    try:
        return Document.from_knp(path.read_text(encoding="utf-8"))
    except Exception as e:  # rhoknp raises ValueError/AssertionError/... on broken input
        raise MalformedRecordError(path, "document", f"rhoknp cannot parse it ({type(e).__name__}: {e})") from e


def _document_ids(files: RawFiles, split: str) -> list[str]:
    """The ids of a split in llm-jp-eval's processing order: ``sorted(raw_dir/split).glob("*.knp")``."""
    ids = {line.strip() for line in files.path(f"id/{split}.id").read_text(encoding="utf-8").splitlines()}
    return sorted((i for i in ids if i), key=lambda i: f"{i}.knp")


def _build_all(files: RawFiles) -> dict[str, Splits]:
    id_files = [files.path(f"id/{split}.id").resolve() for split in SPLITS]
    split_docs = {
        split: [(doc_id, files.path(f"knp/{doc_id[:8]}/{doc_id}.knp").resolve()) for doc_id in _document_ids(files, split)]
        for split in SPLITS
    }
    key = tuple(id_files) + tuple(p for split in SPLITS for _, p in split_docs[split])
    if key in _CACHE:
        return _CACHE[key]
    result: dict[str, Splits] = {name: {split: [] for split in SPLITS} for name in _TASKS}
    for split in SPLITS:
        for _, path in split_docs[split]:
            document = _parse_document(path)
            for name, derive in _TASKS.items():
                try:
                    sample = derive(document)
                except MalformedRecordError:
                    raise
                except Exception as e:
                    raise MalformedRecordError(path, name, f"cannot derive the sample ({type(e).__name__}: {e})") from e
                if sample.output.strip():
                    result[name][split].append(sample)
    _CACHE[key] = result
    return result


def _builder(name: str) -> Callable[[RawFiles], Splits]:
    def build(files: RawFiles) -> Splits:
        splits = _build_all(files)[name]
        return {split: list(samples) for split, samples in splits.items()}

    build.__name__ = f"build_{name}"
    return build


# The line of a well-formed answer (lm_eval_jaster.wellformed), as the NFKC-normalised golds are written.
_NE_TYPE = "(?:組織名|人名|地名|固有物名|日付表現|時刻表現|金額表現|割合表現)"
_NE_ITEM = rf"\S(?:(?!\({_NE_TYPE}\)).)*?\({_NE_TYPE}\)"  # an entity never holds a "(type)": one way to split
_LINE_PATTERNS = {
    "wiki_ner": rf"{_NE_ITEM}(?: {_NE_ITEM})*",  # 東京(地名) 日本銀行(組織名)
    "wiki_dependency": r"\S.* -> .*\S",  # 係り元 -> 係り先
    "wiki_pas": r"\S.*? (?:ガ|デ|ト|ニ|ヘ|ヲ|カラ|マデ|ヨリ):\S.*",  # 述語 ガ:項 ヲ:項
    "wiki_coreference": r"\S+(?: +\S+)+",  # two or more mentions
}


def _info(name: str, instruction: str, output_length: int, metric: str, sha256: str) -> DatasetInfo:
    return DatasetInfo(
        name=name,
        category="FA",
        instruction=instruction,
        output_length=output_length,
        metrics=(metric,),
        source=SOURCE,
        license=LICENSE,
        homepage=HOMEPAGE,
        build=_builder(name),
        published_dev_sha256=sha256,
        answer_format="reading" if metric == "char_f1" else "lines",
        line_pattern=_LINE_PATTERNS.get(name, ""),
        single_line=name == "wiki_ner",
    )


_STRICT = "回答の他には何も含めないことを厳守してください。"

DATASETS: list[DatasetInfo] = [
    _info(
        "wiki_reading",
        "与えられたテキストを全てひらがなに変換してください。" + _STRICT,
        512,
        "char_f1",
        "a7effd48ba08ce8be97df1736ccb39351d1b954f067593fa3975f105d089009e",
    ),
    _info(
        "wiki_ner",
        "与えられたテキストから固有表現（組織名、人名、地名、固有物名、日付表現、時刻表現、金額表現、割合表現）を全て抽出してください。"
        + _STRICT
        + "回答には「固有表現1（種類1） 固有表現2（種類2）」のように固有表現の種類も含めてください。",
        256,
        "set_f1",
        "8547820e11679dbd3782aa3201a56be496a953a11a1403fb6874aaf6f678237a",
    ),
    _info(
        "wiki_dependency",
        "与えられたテキストについて文節間の係り受け関係を列挙してください。"
        + _STRICT
        + "回答は以下のような形式で答えてください。\n係り元文節1 -> 係り先文節1\n係り元文節2 -> 係り先文節2",
        512,
        "set_f1",
        "de405fe7788d0ffa1d31398caa1d4bdf56728c3f3f5a9485f43ee68d3ea403a4",
    ),
    _info(
        "wiki_pas",
        "与えられたテキストから述語項構造を全て抽出してください。"
        + _STRICT
        + "回答は以下のような形式で答えてください。\n述語1 ガ：項1 ヲ：項2 ニ：項3\n述語2 ガ：項4 ヲ：項5",
        512,
        "set_f1",
        "accb3307d8cd48b83831527245e679fe5d52b51e1262f82aa86fefbe9429e9a3",
    ),
    _info(
        "wiki_coreference",
        "与えられたテキストから同一の対象を指し示すフレーズを全て抽出してください。"
        + _STRICT
        + "回答は以下のような形式で答えてください。\nフレーズ1 フレーズ2 フレーズ3\nフレーズ4 フレーズ5",
        256,
        "set_f1",
        "0e83398d8619b1bcc86f3a3abd8fead41f142fe0b3416b9733648a9cbda2197a",
    ),
]
