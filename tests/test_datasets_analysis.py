"""FA (Fundamental Analysis): the five Wikipedia Annotated Corpus datasets (wiki_reading/ner/dependency/pas/
coreference) against llm-jp-eval.

Builds from the raw-data mirror ``<checkout>/../shared/data/wikipedia_annotated_corpus`` (skipped if absent); one cold
build of all five takes about half a minute.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lm_eval_jaster.datasets import wiki
from lm_eval_jaster.datasets.base import MalformedRecordError, Sample
from lm_eval_jaster.datasets.base import render_llm_jp_eval_json, sha256_text

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
WAC_DIR = DATA_DIR / wiki.SOURCE
INFOS = {info.name: info for info in wiki.DATASETS}

needs_mirror = pytest.mark.skipif(
    not (WAC_DIR / "id" / "dev.id").is_file(), reason=f"raw-data mirror not found at {WAC_DIR}"
)


class MirrorFiles:
    """Minimal RawFiles: upstream relative paths joined onto a local folder."""

    source = wiki.SOURCE

    def __init__(self, root: Path):
        self.root = root

    def path(self, upstream_path: str) -> Path:
        return self.root / upstream_path


@pytest.fixture(scope="module")
def built():
    """Cold-build all five datasets once, counting the documents parsed."""
    parsed: list[Path] = []
    real_parse = wiki._parse_document

    def counting_parse(path: Path):
        parsed.append(path)
        return real_parse(path)

    saved_cache = dict(wiki._CACHE)
    wiki._CACHE.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wiki, "_parse_document", counting_parse)
        files = MirrorFiles(WAC_DIR)
        splits = {name: info.build(files) for name, info in INFOS.items()}
        parses_after_first_round = len(parsed)
        for info in INFOS.values():  # a second round must come from the cache
            info.build(files)
    yield {"splits": splits, "parsed": parsed, "parses_after_first_round": parses_after_first_round}
    wiki._CACHE.clear()
    wiki._CACHE.update(saved_cache)


def test_metadata():
    assert list(INFOS) == ["wiki_reading", "wiki_ner", "wiki_dependency", "wiki_pas", "wiki_coreference"]
    for info in INFOS.values():
        assert info.category == "FA"
        assert info.source == "wikipedia_annotated_corpus"
        assert info.license == "CC BY-SA 4.0"
        assert info.homepage == "https://github.com/ku-nlp/WikipediaAnnotatedCorpus"
        assert info.metrics == (("char_f1",) if info.name == "wiki_reading" else ("set_f1",))
    assert [INFOS[n].output_length for n in INFOS] == [512, 256, 512, 512, 256]
    assert INFOS["wiki_pas"].instruction.endswith("回答は以下のような形式で答えてください。\n述語1 ガ：項1 ヲ：項2 ニ：項3\n述語2 ガ：項4 ヲ：項5")


@needs_mirror
@pytest.mark.parametrize("name", list(INFOS))
def test_dev_sha256_matches_published(built, name):
    info = INFOS[name]
    assert sha256_text(render_llm_jp_eval_json(info, built["splits"][name]["dev"])) == info.published_dev_sha256


@needs_mirror
def test_split_sizes(built):
    sizes = {name: {split: len(samples) for split, samples in s.items()} for name, s in built["splits"].items()}
    assert sizes == {
        "wiki_reading": {"train": 1517, "dev": 100, "test": 200},
        "wiki_ner": {"train": 881, "dev": 64, "test": 113},  # documents without a (non-OPTIONAL) entity are dropped
        "wiki_dependency": {"train": 1517, "dev": 100, "test": 200},
        "wiki_pas": {"train": 1514, "dev": 100, "test": 199},
        "wiki_coreference": {"train": 1515, "dev": 100, "test": 200},
    }


@needs_mirror
def test_corpus_parsed_once(built):
    parsed = built["parsed"]
    assert len(parsed) == 1517 + 100 + 200  # every document of the three id lists ...
    assert len(set(parsed)) == len(parsed)  # ... exactly once, for the five datasets together
    assert built["parses_after_first_round"] == len(parsed)  # rebuilding came from the cache


def _dev(built, name: str, doc_input_prefix: str) -> Sample:
    matches = [s for s in built["splits"][name]["dev"] if s.input.startswith(doc_input_prefix)]
    assert len(matches) == 1
    return matches[0]


@needs_mirror
def test_first_dev_samples(built):
    dev = {name: s["dev"][0] for name, s in built["splits"].items()}
    # wiki00080654 (first dev id): parentheticals dropped, Latin words kept as they are in the reading
    assert dev["wiki_reading"].input.startswith("人称とは、文法の用語で、")
    assert dev["wiki_reading"].output.startswith("にんしょうとは、ぶんぽうのようごで、あるはつわのはなしておよびききて")
    assert "grammatical　categoryのたいやくご「ぶんぽうはんちゅう」" in dev["wiki_reading"].output
    assert dev["wiki_dependency"].output.startswith("人称とは、 -> 用語で、\n文法の -> 用語で、\n用語で、 -> 使われる。\n")
    assert dev["wiki_pas"].input.startswith("人称（にんしょう）とは、")  # parenthetical resurrected
    assert dev["wiki_pas"].output.startswith("用語で ガ：人称\n話し手 ヲ：発話\n聞き手 ヲ：発話\n区別する ト：役割 ヲ：それ以外\n")
    assert dev["wiki_coreference"].output.startswith("人称 用語 grammatical　category 対訳語 文法範疇 一種\n文法 文法\n")
    # the first two dev documents have no named entity, so the first NER sample is the third (wiki00083763)
    assert dev["wiki_ner"].input.startswith("『金曜エンタテイメント』（きんようエンタテイメント）は、")
    assert dev["wiki_ner"].output.startswith("金曜エンタテイメント（固有物名） 1993年4月9日（日付表現） 2006年9月29日（日付表現） フジテレビ（組織名）")


@needs_mirror
def test_llm_jp_eval_unit_test_documents(built):
    """The documents of llm-jp-eval's own tests (tests/datasets/test_wiki_*.py), both in WAC's dev split."""
    lib = "アメリカ議会図書館"  # wiki00280639
    assert _dev(built, "wiki_reading", lib).output == "あめりかぎかいとしょかんは、あめりかがっしゅうこくのじじつじょうのこくりつとしょかん。"
    assert _dev(built, "wiki_ner", lib) == Sample(
        "アメリカ議会図書館（アメリカぎかいとしょかん）は、アメリカ合衆国の事実上の国立図書館。", "アメリカ合衆国（地名）"
    )
    assert _dev(built, "wiki_dependency", lib) == Sample(
        "アメリカ議会図書館は、アメリカ合衆国の事実上の国立図書館。",
        "アメリカ議会図書館は、 -> 国立図書館。\nアメリカ合衆国の -> 国立図書館。\n事実上の -> 国立図書館。",
    )
    assert _dev(built, "wiki_pas", lib).output == "国立図書館 ガ：アメリカ議会図書館"
    assert _dev(built, "wiki_coreference", lib).output == "アメリカ アメリカ合衆国\nアメリカ議会図書館 国立図書館"

    bsd = "BSDライセンス"  # wiki00132787
    assert _dev(built, "wiki_reading", bsd).output.startswith("びーえすでぃーらいせんすは、")  # A-Z -> letter names
    assert _dev(built, "wiki_ner", bsd).output == (
        "カリフォルニア大学（組織名） Computer　Systems　Research　Group（組織名） "
        "Berkeley　Software　Distribution（固有物名） BSD（固有物名）"
    )
    assert _dev(built, "wiki_pas", bsd).output.split("\n")[0] == "使われている ガ：ライセンス体系 デ：フリーソフトウェア"
    assert _dev(built, "wiki_coreference", bsd).output.split("\n")[:2] == ["BSDライセンス ライセンス体系 ひとつ", "カリフォルニア大学 同大学"]


def test_unparsable_document_raises(tmp_path):
    (tmp_path / "id").mkdir()
    for split in ("train", "dev", "test"):
        (tmp_path / "id" / f"{split}.id").write_text("wiki99990001\n" if split == "dev" else "", encoding="utf-8")
    knp = tmp_path / "knp" / "wiki9999" / "wiki99990001.knp"
    knp.parent.mkdir(parents=True)
    knp.write_text("# S-ID:wiki99990001-00\n* 0D\n+ 0D\nnot a morpheme line\nEOS\n", encoding="utf-8")
    with pytest.raises(MalformedRecordError, match="wiki99990001.knp"):
        INFOS["wiki_reading"].build(MirrorFiles(tmp_path))
