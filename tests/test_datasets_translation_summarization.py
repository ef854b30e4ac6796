"""MT (ALT, WikiCorpus) and SUM (XL-Sum ja) loaders on hand-written fixtures in the upstream formats: split rules,
parsing details, file order, metadata, and malformed input."""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import io
import random
import tarfile
import zipfile
from pathlib import Path

import pytest

from lm_eval_jaster.data import build_splits
from lm_eval_jaster.datasets import wikicorpus
from lm_eval_jaster.datasets.base import MalformedRecordError, Sample
from lm_eval_jaster.datasets.base import render_llm_jp_eval_json, sha256_text
from lm_eval_jaster.registry import all_datasets, get_dataset
from lm_eval_jaster.sources import manifest

FIXTURES = Path(__file__).parent / "fixtures"

# llm-jp-eval's instructions, output lengths and metrics (v1.3.0 source; v1.4 excerpts and recollection for XL-Sum)
# and llm-jp/scripts' published v1.4.1 dev sha256, copied independently of the modules.
E_TO_J = "これから提示する英語の文章を日本語に翻訳してください。必ず日本語の訳文のみを出力し、それ以外には何も含めないことを厳守してください。"
J_TO_E = "これから提示する日本語の文章を英語に翻訳してください。必ず英語の訳文のみを出力し、それ以外には何も含めないことを厳守してください。"
EXPECTED = {  # name: (category, instruction, output_length, metrics (llm-jp-eval order), key metric, published v1.4.1)
    "alt-e-to-j": ("MT", E_TO_J, 250, ("bleu_ja", "bert_score_ja_f1", "comet_wmt22"), "comet_wmt22",
                   "796a834af5a60e5969d31626a1c2e60477bede8b8279c438f33952a38389cb83"),
    "alt-j-to-e": ("MT", J_TO_E, 500, ("bleu_en", "bert_score_en_f1", "comet_wmt22"), "comet_wmt22",
                   "968bf42ca791f6bdb7d47d4147fc5fe04e68f3495780aef8f294a8e4a993c5d7"),
    "wikicorpus-e-to-j": ("MT", E_TO_J, 300, ("bleu_ja", "bert_score_ja_f1", "comet_wmt22"), "comet_wmt22",
                          "deab5bc3a7c1073dc6cbd16acc2d6887dc226622d35342442c64c36b64c1cc94"),
    "wikicorpus-j-to-e": ("MT", J_TO_E, 550, ("bleu_en", "bert_score_en_f1", "comet_wmt22"), "comet_wmt22",
                          "14f78522a2e1afc5394c3bd9ed888927b904fdea598e7c2d6b168d2ed716652f"),
    "xlsum_ja": ("SUM", "与えられたニュース記事を要約してください。", 512,
                 ("rouge1", "rouge2", "rougeLsum", "bleu_ja", "bert_score_ja_f1"), "rouge2",
                 "44f2e6805f3f269fa577ca57bab81a12ff154c4220ee74861b53581ea8e5c1a5"),
}


@pytest.fixture
def unpinned(monkeypatch, empty_cache):
    """Bad files written by a test: the upstream files have no pinned checksum (the session pins the fixtures')."""
    for key, entry in list(manifest().items()):
        if key[0] in ("alt", "wikicorpus", "xlsum_ja"):
            monkeypatch.setitem(manifest(), key, dataclasses.replace(entry, sha256="", git_blob_sha1=""))


@pytest.mark.parametrize("name", list(EXPECTED))
def test_metadata(name):
    info = get_dataset(name)
    category, instruction, output_length, metrics, key, digest = EXPECTED[name]
    assert (info.category, info.instruction, info.output_length, info.metrics) == (category, instruction,
                                                                                  output_length, metrics)
    assert info.key_metric == key and info.published_dev_sha256 == digest
    assert info.task_name == "jaster_" + name.replace("-", "_")
    assert info.non_commercial == (name == "xlsum_ja") and info.in_avg and info.answer_format == "text"
    # The exported JSON lists llm-jp-eval's metrics in llm-jp-eval's order (it is part of the published hash).
    assert f'"metrics": [\n        "{metrics[0]}",' in render_llm_jp_eval_json(info, [])


def test_task_yaml_uses_the_key_metric_template():
    tasks = Path(__file__).parents[1] / "tasks"
    for info in all_datasets().values():
        if info.name in EXPECTED:
            text = (tasks / f"{info.task_name}.yaml").read_text(encoding="utf-8")
            template = "_jaster_summarization_yaml" if info.category == "SUM" else "_jaster_translation_yaml"
            assert f"include: {template}\n" in text and f"max_gen_toks: {info.output_length} " in text


# --- ALT ------------------------------------------------------------------------------------------------------

def test_alt_from_fixture(jaster_env):
    splits = build_splits("alt-e-to-j", use_cache=False)
    # Articles in URL-list order (train: 103, 101, 105), sentences in file order; SNT.105.3 (561 characters together)
    # is dropped by len(ja)+len(en) < 500; text is stripped (SNT.101.3 has spaces / an ideographic space around it).
    assert splits["train"] == [
        Sample("The museum will open a new exhibition next month.", "博物館は来月新しい展覧会を開く。"),
        Sample("The exhibition shows paintings from the nineteenth century.", "展覧会では十九世紀の絵画が展示される。"),
        Sample("Tickets are available online.", "チケットはオンラインで購入できる。"),
        Sample("The city council approved a new budget on Monday.", "市議会は月曜日に新しい予算を承認した。"),
        Sample("The budget includes funds for two new parks.", "予算には二つの新しい公園のための資金が含まれている。"),
        Sample("The mayor welcomed the decision.", "市長はその決定を歓迎した。"),
        Sample("The company reported higher profits this year.", "その会社は今年の利益が増えたと発表した。"),
        Sample("Its shares rose by five percent.", "同社の株価は五パーセント上昇した。"),
    ]
    assert [s.input for s in splits["dev"]] == [  # URL-dev.txt: 104 then 102
        "The storm caused power cuts in the north.", "Engineers restored power by the evening.",
        "There were no reports of injuries.", "The football club announced its new coach.",
        "The coach has worked in three countries."]
    # Test: article 107 without its unpaired sentences (107.3 en only, 107.4 ja only); URL.999 is not in the corpus;
    # article 106 is in no list; the id-only line "SNT.108" is skipped.
    assert splits["test"] == [Sample("Trains were delayed because of snow.", "雪のため列車が遅れた。"),
                              Sample("The railway company apologised to passengers.", "鉄道会社は乗客に謝罪した。")]
    mirrored = build_splits("alt-j-to-e", use_cache=False)
    assert {k: [Sample(s.output, s.input) for s in v] for k, v in mirrored.items()} == splits


def _alt_mirror(root: Path, data: dict[str, bytes] | None = None, url_train: str | None = None) -> Path:
    source = root / "alt"
    source.mkdir(parents=True)
    for name in ("URL-train.txt", "URL-dev.txt", "URL-test.txt"):
        (source / name).write_bytes((FIXTURES / "alt" / name).read_bytes())
    if url_train is not None:
        (source / "URL-train.txt").write_text(url_train, encoding="utf-8")
    members = data if data is not None else {
        f"ALT-Parallel-Corpus-20191206/{p.name}": p.read_bytes()
        for p in (FIXTURES / "alt" / "ALT-Parallel-Corpus-20191206").glob("data_*.txt")}
    with zipfile.ZipFile(source / "ALT-Parallel-Corpus-20191206.zip", "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return root


def test_alt_malformed_inputs_name_the_file(tmp_path, unpinned):
    en = (FIXTURES / "alt" / "ALT-Parallel-Corpus-20191206" / "data_en.txt").read_bytes()
    root = _alt_mirror(tmp_path / "a", {"ALT-Parallel-Corpus-20191206/data_en.txt": en})
    with pytest.raises(MalformedRecordError, match=r"ALT-Parallel-Corpus-20191206\.zip.*no ALT-Parallel-Corpus-20191206/data_ja\.txt member"):
        build_splits("alt-e-to-j", root, use_cache=False)
    root = _alt_mirror(tmp_path / "b", {"ALT-Parallel-Corpus-20191206/data_en.txt": en,
                                        "ALT-Parallel-Corpus-20191206/data_ja.txt": "\ufffe\x00ja".encode("utf-16")})
    with pytest.raises(MalformedRecordError, match=r"data_ja\.txt: document: not UTF-8"):
        build_splits("alt-e-to-j", root, use_cache=False)
    root = _alt_mirror(tmp_path / "c", url_train="<html>Not Found</html>\n")
    with pytest.raises(MalformedRecordError, match=r"URL-train\.txt: document: no 'URL\.<article>"):
        build_splits("alt-e-to-j", root, use_cache=False)
    bad = tmp_path / "d" / "alt"
    _alt_mirror(tmp_path / "d")
    (bad / "ALT-Parallel-Corpus-20191206.zip").write_bytes(b"<html>not a zip</html>")
    with pytest.raises(MalformedRecordError, match=r"ALT-Parallel-Corpus-20191206\.zip: archive: not a zip file"):
        build_splits("alt-e-to-j", tmp_path / "d", use_cache=False)


# --- WikiCorpus -----------------------------------------------------------------------------------------------

WALK_ORDER = ["RLW/RLW00002", "RLW/RLW00001", "RLW/RLW00003", "BDS/BDS00003", "BDS/BDS00001", "BDS/BDS00004",
              "BDS/BDS00002", "CLT/CLT00001", "CLT/CLT00003", "CLT/CLT00002"]  # the fixture archive's member order
PARAGRAPHS = {  # (ja, en) per file, hand-derived from the XML: title and section titles are not paragraphs
    "RLW/RLW00001": [("清水寺は京都市東山区にある寺院である。", "Kiyomizu-dera Temple is a temple in Higashiyama Ward, Kyoto City."),
                     ("本堂の舞台が有名である。", "The stage of its main hall is famous.")],
    "RLW/RLW00002": [("金閣寺は正式には鹿苑寺という。", "Kinkaku-ji Temple is formally called Rokuon-ji Temple.")],
    "RLW/RLW00003": [("東寺の五重塔は日本一高い木造の塔である。 平安京の遺構である。",
                      "The five-story pagoda of To-ji Temple is the tallest wooden tower in Japan. It is a remnant of Heian-kyo.")],
    "BDS/BDS00001": [
        ("雪舟は室町時代の水墨画家である。 日本の水墨画を一変させた。",
         "Sesshu was an ink painter of the Muromachi period. He revolutionized Japanese ink painting."),
        # sentence 4 has no <e type="check"> → skipped; "&quot;" stays literal after the &→&amp; rewrite; raw & → &
        ("号は「等楊」とも伝わる。 AT&Tのように&を含む。", "He was also known as &quot;Toyo&quot;. It contains & as in AT&T."),
        # inside <sec>: sentence 7 has an empty <j> → skipped
        ("1420年に備中国で生まれる。", "He was born in Bicchu Province in 1420."),
        ("", ""),  # a paragraph without any checked sentence stays, empty
    ],
    "BDS/BDS00002": [("狩野派は日本の絵画の流派である。 室町時代から江戸時代まで続いた。",
                      "The Kano school is a school of Japanese painting. It lasted from the Muromachi period to the Edo period.")],
    # BDS00002's second paragraph (205 + 318 characters) is dropped by the length filter.
    "BDS/BDS00003": [("長谷川等伯は安土桃山時代の絵師である。", "Tohaku HASEGAWA was a painter of the Azuchi-Momoyama period.")],
    "BDS/BDS00004": [("尾形光琳は江戸時代中期の画家である。 燕子花図で知られる。",
                      "Korin OGATA was a painter of the mid Edo period. He is known for the Irises screens.")],
    "CLT/CLT00001": [("茶道は湯を沸かし茶を点てる作法である。", "The tea ceremony is the art of boiling water and making tea.")],
    "CLT/CLT00002": [("三味線は三本の弦をもつ楽器である。 撥で弾く。",
                      "The shamisen is an instrument with three strings. It is played with a plectrum.")],
    "CLT/CLT00003": [("能は日本の古典芸能である。", "Noh is a classical Japanese performing art."),
                     ("室町時代に大成された。", "It was perfected in the Muromachi period.")],
}


def _expected_wikicorpus(order: list[str]) -> dict[str, list[Sample]]:
    files = list(order)
    random.seed(42)  # llm-jp-eval's rule, restated: shuffle the per-file lists, 8:1:1 by file, flatten
    random.shuffle(files)
    n = len(files)
    parts = {"train": files[: int(n * 0.8)], "dev": files[int(n * 0.8): int(n * 0.9)], "test": files[int(n * 0.9):]}
    return {split: [Sample(en, ja) for f in chunk for ja, en in PARAGRAPHS[f]] for split, chunk in parts.items()}


def test_wikicorpus_from_fixture_walk_order(jaster_env, caplog):
    splits = build_splits("wikicorpus-e-to-j", use_cache=False)
    assert splits == _expected_wikicorpus(WALK_ORDER)
    assert "no reading of the upstream files (archive (os.walk, creation order), sorted) reproduces llm-jp-eval's published dev file" in caplog.text
    reverse = build_splits("wikicorpus-j-to-e", use_cache=False)
    assert {k: [Sample(s.output, s.input) for s in v] for k, v in reverse.items()} == splits
    # by file: every paragraph of a file lands in the same split
    where = {s.input: split for split, samples in splits.items() for s in samples}
    for paragraphs in PARAGRAPHS.values():
        assert len({where[en] for ja, en in paragraphs}) == 1


def test_wikicorpus_uses_the_order_that_matches_the_published_file(jaster_env, monkeypatch, caplog):
    sorted_order = sorted(WALK_ORDER)
    expected = _expected_wikicorpus(sorted_order)
    assert expected != _expected_wikicorpus(WALK_ORDER)  # the fixture is built so that the order matters
    info = get_dataset("wikicorpus-e-to-j")
    digest = sha256_text(render_llm_jp_eval_json(info, expected["dev"]))
    monkeypatch.setitem(all_datasets(), info.name, dataclasses.replace(info, published_dev_sha256=digest))
    caplog.set_level("INFO", logger="lm_eval.jaster")
    assert build_splits("wikicorpus-e-to-j", use_cache=False) == expected
    assert "reading 'sorted' reproduces llm-jp-eval's published dev file" in caplog.text


def test_walk_order_emulates_os_walk_on_creation_ordered_folders():
    entries = [("top/", True), ("top/b.xml", False), ("top/Z/", True), ("top/A/", True), ("top/A/2.xml", False),
               ("top/Z/9.xml", False), ("top/a.xml", False), ("top/A/1.xml", False), ("./top/Y/3.xml", False)]
    assert wikicorpus.walk_order(entries) == ["top/b.xml", "top/a.xml", "top/Z/9.xml", "top/A/2.xml", "top/A/1.xml",
                                              "top/Y/3.xml"]
    # top-down: a folder's files first (b, a: creation order), then its subfolders in creation order (Z, A, then Y,
    # created implicitly by its file); every file exactly once.
    assert sorted(wikicorpus.walk_order(entries)) == sorted(n.lstrip("./") for n, d in entries if not d)


def _tar(path: Path, members: dict[str, bytes], compress=gzip.compress) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compress(raw.getvalue()))


def _tar_gz(path: Path, members: dict[str, bytes]) -> None:
    _tar(path, members, gzip.compress)


def test_wikicorpus_malformed_inputs_name_the_file(tmp_path, unpinned):
    archive = tmp_path / "wikicorpus" / "wiki_corpus_2.01.tar.gz"
    _tar_gz(archive, {"wiki_corpus_2.01/BDS/BDS00001.xml": b'<?xml version="1.0"?>\n<art><par><sen></par></art>'})
    with pytest.raises(MalformedRecordError, match=r"wiki_corpus_2\.01\.tar\.gz!wiki_corpus_2\.01/BDS/BDS00001\.xml: document: not well-formed XML"):
        build_splits("wikicorpus-e-to-j", tmp_path, use_cache=False)
    _tar_gz(archive, {"wiki_corpus_2.01/README": b"no xml here"})
    with pytest.raises(MalformedRecordError, match=r"wiki_corpus_2\.01\.tar\.gz: archive: no \*\.xml member"):
        build_splits("wikicorpus-e-to-j", tmp_path, use_cache=False)
    archive.write_bytes(b"<html>Not Found</html>")
    with pytest.raises(MalformedRecordError, match=r"wiki_corpus_2\.01\.tar\.gz: archive: not a tar archive"):
        build_splits("wikicorpus-e-to-j", tmp_path, use_cache=False)


# --- XL-Sum ---------------------------------------------------------------------------------------------------

def test_xlsum_from_fixture(jaster_env):
    splits = build_splits("xlsum_ja", use_cache=False)
    # train: the 2,049-character article is dropped, the 2,048-character one kept (len(text) > 2048 is removed)
    assert [len(s.input) for s in splits["train"]][2] == 2048
    assert [s.output for s in splits["train"]] == [
        "大型の台風が九州に上陸し、各地で交通機関が乱れた。", "東京都内に新しい駅が開業し、初日から多くの利用者が訪れた。",
        "この記事はちょうど上限の長さなので残る。", "各地で桜が開花し、花見客でにぎわった。",
        "国際宇宙ステーションに滞在していた宇宙飛行士が地球に帰還した。"]
    assert [s.output for s in splits["dev"]] == [  # dev = japanese_val.jsonl, the 3,000-character article removed
        "総選挙で与党が過半数を維持した。", "市に新しい図書館が完成し、約20万冊の本が並んだ。", "日本代表がワールドカップ予選を突破した。"]
    assert splits["dev"][0].input == "10日に投開票された総選挙で、与党が過半数の議席を維持した。投票率は前回をわずかに上回った。"
    assert len(splits["test"]) == 3 and all(len(s.input) <= 2048 for v in splits.values() for s in v)


def _tar_bz2(path: Path, members: dict[str, bytes]) -> None:
    _tar(path, members, bz2.compress)


def test_xlsum_accepts_a_top_folder_and_reports_bad_records(tmp_path, unpinned):
    good = b'{"id": "1", "url": "u", "title": "t", "summary": "s", "text": "t"}\n'
    archive = tmp_path / "xlsum_ja" / "japanese_XLSum_v2.0.tar.bz2"
    _tar_bz2(archive, {f"japanese_XLSum_v2.0/japanese_{s}.jsonl": good for s in ("train", "val", "test")})
    assert build_splits("xlsum_ja", tmp_path, use_cache=False)["dev"] == [Sample("t", "s")]
    _tar_bz2(archive, {"japanese_train.jsonl": good, "japanese_val.jsonl": good + b'{"id": "2", "text": \n',
                       "japanese_test.jsonl": good})
    with pytest.raises(MalformedRecordError, match=r"japanese_XLSum_v2\.0\.tar\.bz2!japanese_val\.jsonl: line 2: invalid JSON"):
        build_splits("xlsum_ja", tmp_path, use_cache=False)
    _tar_bz2(archive, {"japanese_train.jsonl": good, "japanese_val.jsonl": good,
                       "japanese_test.jsonl": b'{"id": "3", "text": "only text"}\n'})
    with pytest.raises(MalformedRecordError, match=r"japanese_test\.jsonl: line 1: not an XL-Sum record \(missing 'summary'\)"):
        build_splits("xlsum_ja", tmp_path, use_cache=False)
    _tar_bz2(archive, {"japanese_train.jsonl": good, "japanese_val.jsonl": good})
    with pytest.raises(MalformedRecordError, match=r"japanese_XLSum_v2\.0\.tar\.bz2: archive: no japanese_test\.jsonl member"):
        build_splits("xlsum_ja", tmp_path, use_cache=False)


def test_export_checks_the_published_hash(jaster_env, tmp_path, capsys):
    from lm_eval_jaster import cli

    assert cli.main(["export", "--split", "dev", "--output-dir", str(tmp_path), "--datasets", "alt-e-to-j,xlsum_ja"]) == 1
    out = capsys.readouterr()
    exported = (tmp_path / "dev" / "alt-e-to-j.json").read_text(encoding="utf-8")
    assert exported.startswith('{\n    "instruction": "これから提示する英語の文章を日本語に翻訳してください。')
    text = out.out + out.err
    for name in ("alt-e-to-j", "xlsum_ja"):  # hand-written fixtures: the check runs and, rightly, fails
        assert f"DIFFERS from llm-jp-eval v1.4.1's published sha256 {get_dataset(name).published_dev_sha256}" in text
