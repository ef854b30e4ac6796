"""Short-answer datasets of the HE, MC, QA, CL and MR categories (JMMLU, MMLU (en), JCommonsenseMorality, KUCI, AIO,
JCoLA, MGSM): published hashes, split rules, fixtures, errors."""

from __future__ import annotations

import dataclasses
import hashlib
import random

import pytest

from lm_eval_jaster import cli
from lm_eval_jaster.data import build_splits
from lm_eval_jaster.datasets.base import MalformedRecordError, Sample
from lm_eval_jaster.datasets.base import render_llm_jp_eval_json, sha256_text
from lm_eval_jaster.registry import CATEGORIES, all_datasets, get_dataset
from lm_eval_jaster.sources import manifest

# llm-jp/scripts llm-jp-eval-v{1.3.1,1.4.1}/resources/sha256sums.csv, copied independently of the modules.
V131_JMMLU = "5a09be4c1784e49a3e5f75c9931e7c851d5a5b58666ccfa00c782812988d0e7c"
V141_JMMLU = "105ba564dcc1bfa8b7faf9046bdfa11eec27cf955841368bdff22671920ae0a3"
V131_MMLUEN = "57436596f139a2857a5e6d183b0abbea42910c72a9911c69504c39a0f16c985a"
V141_MMLU_EN = "4e37b02fe76048bf1e2acd802560dc10c312b821e7641de765770bb94e50c078"
V141_COMMONSENSEMORALJA = "7e0189d02f62b129978411b6f9887c5e903c23ff380d20e81da139c85ee7da3b"
V141_KUCI = "c56d18cefbc3fb38ab55e4a1c623e60432a0f142c6e49259d9cf7989ea845dfa"
V141_AIO = "98d951150a86ce9d96caa0d53262a9bc2eb6d1cf91a0c191089eae2af452be3f"

# The hash each build is meant to reproduce (None: nothing published for that build).
EXPECTED_HASH = {
    "jmmlu": V131_JMMLU,  # v1.3.0 processor; v1.3.1's dev file
    "commonsensemoralja": V141_COMMONSENSEMORALJA,
    "mmlu_en": V131_MMLUEN,  # v1.3.0 mmluen processor under the v1.4 name; unverifiable without data.tar
    "kuci": V141_KUCI,  # unverifiable: not mirrored
    "aio": V141_AIO,  # unverifiable: not mirrored
    "jcola-in-domain": None,
    "jcola-out-of-domain": None,
    "mgsm": None,
}
VERIFIABLE = ["jmmlu", "commonsensemoralja"]

SPLIT_SIZES = {  # train, dev, test as built from ../shared/data
    "jmmlu": (32, 3524, 3541),  # 7,097 questions of the 53 CC BY-SA subjects
    "commonsensemoralja": (13975, 1996, 3992),  # = the upstream README's table
    "jcola-in-domain": (6227, 692, 865),  # in_domain_train 6,919 → 9:1; in_domain_valid 865
    "jcola-out-of-domain": (32, 326, 327),  # out_of_domain_valid 685 → 32 + halves of 653
}


def _export_digest(name: str, data_dir, tmp_path, capsys) -> tuple[str, str]:
    status = cli.main(["export", "--split", "dev", "--output-dir", str(tmp_path / "out"), "--datasets", name,
                       "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    assert status == 0, err
    return hashlib.sha256((tmp_path / "out" / "dev" / f"{name}.json").read_bytes()).hexdigest(), out


@pytest.mark.parametrize("name", VERIFIABLE)
def test_dev_export_matches_published_sha256(name, shared_data, empty_cache, tmp_path, capsys):
    digest, out = _export_digest(name, shared_data, tmp_path, capsys)
    assert digest == EXPECTED_HASH[name]
    assert "matches llm-jp-eval" in out


@pytest.mark.xfail(strict=True, reason=(
    "llm-jp-eval v1.4.1 preprocesses 'all-with-nc'; its jmmlu.json most likely also holds the 3 CC BY-NC-ND "
    "subjects of JMMLU_NC_ND/ (japanese_civics, japanese_geography, japanese_idiom), which the mirror lacks. "
    "The 53-subject build equals v1.3.1's file instead (5a09be4c…)."))
def test_jmmlu_dev_matches_v141_sha256(shared_data, empty_cache):
    info = get_dataset("jmmlu")
    assert sha256_text(render_llm_jp_eval_json(info, build_splits(info, shared_data)["dev"])) == V141_JMMLU


def test_registry_carries_the_expected_hashes():
    for name, digest in EXPECTED_HASH.items():
        assert get_dataset(name).published_dev_sha256 == digest, name
    assert get_dataset("mmlu_en").published_dev_sha256 != V141_MMLU_EN  # a v1.4.1 file this build cannot be


@pytest.mark.parametrize("name", list(SPLIT_SIZES))
def test_split_sizes(name, shared_data, empty_cache):
    splits = build_splits(name, shared_data)
    assert tuple(len(splits[s]) for s in ("train", "dev", "test")) == SPLIT_SIZES[name]


def test_metadata():
    datasets = all_datasets()
    expected = {  # category, output_length, metrics, in_avg, task name
        "jmmlu": ("HE", 1, ("exact_match",), True, "jaster_jmmlu"),
        "mmlu_en": ("HE", 1, ("exact_match",), True, "jaster_mmlu_en"),
        "commonsensemoralja": ("MC", 3, ("exact_match",), True, "jaster_commonsensemoralja"),
        "kuci": ("MC", 1, ("exact_match",), True, "jaster_kuci"),
        "aio": ("QA", 50, ("char_f1",), True, "jaster_aio"),
        "jcola-in-domain": ("CL", 1, ("exact_match",), False, "jaster_jcola_in_domain"),
        "jcola-out-of-domain": ("CL", 1, ("exact_match",), False, "jaster_jcola_out_of_domain"),
        "mgsm": ("MR", 10, ("exact_match",), False, "jaster_mgsm"),
    }
    for name, (category, length, metrics, in_avg, task) in expected.items():
        info = datasets[name]
        assert (info.category, info.output_length, info.metrics, info.in_avg, info.task_name) == \
            (category, length, metrics, in_avg, task), name
        assert not info.non_commercial
    assert not CATEGORIES["CL"].in_avg
    assert datasets["jmmlu"].labels == datasets["mmlu_en"].labels == ("A", "B", "C", "D")
    assert datasets["jcola-in-domain"].labels == datasets["commonsensemoralja"].labels == ("0", "1")
    assert datasets["kuci"].answer_format == "choice" and datasets["mgsm"].answer_format == "number"


# --- hand-checked samples (rows read by eye in ../shared/data) -------------------------------------------------

def test_jmmlu_samples(shared_data, empty_cache):
    splits = build_splits("jmmlu", shared_data)
    every = {s.input: s.output for split in splits.values() for s in split}
    assert len(every) == 7083  # 7,097 rows; 14 questions (with their choices) appear in two subjects upstream
    # JMMLU/anatomy.csv line 2, spaces around the choices kept as written:
    assert every["質問：次のうち、体内で尿を集める構造を最もよく表しているものはどれか？\n選択肢：A.膀胱 ,B.腎臓 ,C. 尿管 ,D. 尿道"] == "A"
    # Line 1 of the same file starts with a UTF-8 BOM, which utf-8-sig drops:
    assert any(i.startswith("質問：「皿状顔貌(dished face)」の輪郭は") for i in every)
    assert {s.output for s in splits["dev"]} == {"A", "B", "C", "D"}
    assert all(s.input.startswith("質問：") and "\n選択肢：A." in s.input for s in splits["test"])


def test_commonsensemoralja_samples(shared_data, empty_cache):
    splits = build_splits("commonsensemoralja", shared_data)
    dev = {s.input: s.output for s in splits["dev"]}
    assert dev["文章：掃除当番を押し付けた"] == "1"  # data_val.csv line 2
    assert dev["文章：掃除当番をくじ引きで決めた"] == "0"  # line 3
    assert {s.input: s.output for s in splits["test"]}["文章：楽器の入ったケースを大切に抱えた"] == "0"  # last line
    assert splits["dev"][0] != Sample("文章：掃除当番を押し付けた", "1")  # shuffled, not file order


def test_jcola_samples(shared_data, empty_cache):
    in_domain = build_splits("jcola-in-domain", shared_data)
    # in_domain_valid line 1 and 2, unshuffled:
    assert (in_domain["test"][0].input, in_domain["test"][0].output) == ("ここは寒すぎている。", "0")
    assert in_domain["test"][1].input == "僕がいつも同じのを締めているネクタイは無用の装飾品です。"
    assert in_domain["test"][1].output == "1"
    out_of_domain = build_splits("jcola-out-of-domain", shared_data)
    every = {s.input: s.output for split in out_of_domain.values() for s in split}
    assert every["太郎のゴミの捨て方について話した。"] == "1"  # out_of_domain_valid line 1
    assert {s.output for split in in_domain.values() for s in split} == {"0", "1"}


# --- mirrored data completed by fixtures, and sources with fixtures only ---------------------------------------

def test_mgsm(jaster_env):
    splits = build_splits("mgsm", use_cache=False)
    assert (len(splits["train"]), len(splits["dev"]), len(splits["test"])) == (8, 250, 250)
    assert splits["dev"] == splits["test"]  # llm-jp-eval has no MGSM dev split
    first = splits["test"][0]  # mgsm_ja.tsv line 1
    assert first.input.startswith("質問：ジャネットのアヒルは1日に16個の卵を生みます。") and first.output == "18"
    assert splits["test"][-1].output == "5600"  # written "5,600" upstream
    assert all(s.output.isdigit() for s in splits["test"])
    # Train: the fixture exemplars.py (upstream layout, \u-escaped literals), "問題：" removed, answer numbers.
    assert splits["train"][0].input == "質問：ケンはりんごを5個持っています。さらに3個もらいました。りんごは全部で何個ですか？"
    assert [s.output for s in splits["train"]] == ["8", "8", "18", "5", "16", "9", "14", "5"]


def test_kuci_from_fixture(jaster_env):
    splits = build_splits("kuci", use_cache=False)
    assert (len(splits["train"]), len(splits["dev"]), len(splits["test"])) == (5, 3, 3)  # upstream files, no shuffle
    third = splits["train"][2]
    assert third.input == ("文脈：電池の減りはやはり早いので、\n"
                           "選択肢：0.実際の装置は実現しません,1.今回は期間限定です,2.炉を停止する,3.充電用にＵＳＢケーブル買います")
    assert third.output == "3"  # label "d"
    assert [s.output for s in splits["dev"]] == ["0", "2", "1"]
    assert splits["test"][0].input.startswith("文脈：部屋が暗いので、\n選択肢：0.電気をつける,")


def test_aio_from_fixture(jaster_env):
    splits = build_splits("aio", use_cache=False)
    assert (len(splits["train"]), len(splits["dev"]), len(splits["test"])) == (10, 2, 3)  # 12 dev questions, 9:1
    every = {s.input: s.output for s in splits["train"] + splits["dev"]}
    assert every["質問：日本の首都はどこでしょう？"] == "東京"  # answers[0]
    assert [s.input for s in splits["test"]][0] == "質問：日本で一番大きな湖は何でしょう？"
    expected = [f"質問：{q}" for q in _fixture_dev_questions(jaster_env)]
    random.Random(42).shuffle(expected)
    assert [s.input for s in splits["train"] + splits["dev"]] == expected


def _fixture_dev_questions(mirror):
    import json
    lines = (mirror / "aio" / "aio_01_dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines]


def test_mmlu_en_from_fixture_tar(jaster_env):
    splits = build_splits("mmlu_en", use_cache=False)
    # upstream dev (2+2+2) → train, val (2+3+2) → dev, test (3+2+3) → test
    assert (len(splits["train"]), len(splits["dev"]), len(splits["test"])) == (6, 7, 8)
    dev = splits["dev"]
    assert all(s.input.startswith("Qusetion: ") and "\nChoices: A." in s.input and ", B." in s.input for s in dev)
    subject = {  # a question of each val file → its subject
        "How many elements": "algebra", "Which of the following is a field": "algebra",
        "How many chambers": "anatomy", "Which structure connects": "anatomy", "Where is the": "anatomy",
        "What is the largest planet": "astronomy", "Which force keeps": "astronomy"}

    def subject_of(sample):
        return next(v for k, v in subject.items() if sample.input.startswith(f"Qusetion: {k}"))
    # round-robin over sorted subjects for i < min_n (= 2), then anatomy's third question
    assert [subject_of(s) for s in dev] == ["algebra", "anatomy", "astronomy"] * 2 + ["anatomy"]
    by_input = {s.input: s.output for s in dev}
    assert by_input["Qusetion: Which of the following is a field: Z_4, Z_5, Z_6 or Z_8?\n"
                    "Choices: A.Z_4, B.Z_5, C.Z_6, D.Z_8"] == "B"  # quoted field with commas
    assert by_input['Qusetion: Where is the "funny bone" located?\nChoices: A.Knee, B.Elbow, C.Wrist, D.Ankle'] == "B"
    # test: abstract_algebra 3, anatomy 2, astronomy 3 → min_n 2, then the remainders in subject order
    test_firsts = {"What is the identity": "algebra", "Is every subgroup": "algebra", "Which of these groups": "algebra",
                   "Which part of the brain": "anatomy", "How many pairs of ribs": "anatomy",
                   "What is a light-year": "astronomy", "Which planet is known": "astronomy",
                   "What is at the centre": "astronomy"}
    subject.update(test_firsts)
    assert [subject_of(s) for s in splits["test"]] == ["algebra", "anatomy", "astronomy"] * 2 + ["algebra", "astronomy"]
    assert {s.output for split in splits.values() for s in split} <= {"A", "B", "C", "D"}


def test_mmlu_en_per_file_reseed(jaster_env):
    """Each CSV is shuffled after a fresh random.seed(42), so every 2-row file is permuted the same way."""
    splits = build_splits("mmlu_en", use_cache=False)
    order = [0, 1]
    random.Random(42).shuffle(order)
    algebra_val = ["How many elements does the group Z_6 have?",
                   "Which of the following is a field: Z_4, Z_5, Z_6 or Z_8?"]
    astronomy_val = ["What is the largest planet of the Solar System?",
                     "Which force keeps planets in orbit around the Sun?"]
    dev = [s.input.split("\n")[0] for s in splits["dev"]]
    assert [dev[0], dev[3]] == [f"Qusetion: {algebra_val[i]}" for i in order]
    assert [dev[2], dev[5]] == [f"Qusetion: {astronomy_val[i]}" for i in order]


# --- malformed input ------------------------------------------------------------------------------------------

def _pin(monkeypatch, source: str, upstream: str, path) -> None:
    """Pin this file's sha256 for the test (the session may have pinned the fixture's), to reach the parser."""
    key = (source, upstream)
    monkeypatch.setitem(manifest(), key, dataclasses.replace(manifest()[key], sha256=hashlib.sha256(path.read_bytes()).hexdigest()))


def test_kuci_malformed_record_names_file_and_line(tmp_path, monkeypatch, empty_cache):
    folder = tmp_path / "kuci" / "dataset"
    folder.mkdir(parents=True)
    good = '{"id": 0, "context": "雨 が 降る", "choice_a": "a", "choice_b": "b", "choice_c": "c", "choice_d": "d", "label": "a"}'
    (folder / "train.jsonl").write_text(good + "\n" + good[:-5] + "\n", encoding="utf-8")
    _pin(monkeypatch, "kuci", "dataset/train.jsonl", folder / "train.jsonl")
    with pytest.raises(MalformedRecordError, match=r"dataset/train\.jsonl: line 2: invalid JSON"):
        build_splits("kuci", tmp_path, use_cache=False)
    (folder / "train.jsonl").write_text(good + "\n" + good.replace('"a"}', '"e"}') + "\n", encoding="utf-8")
    _pin(monkeypatch, "kuci", "dataset/train.jsonl", folder / "train.jsonl")
    with pytest.raises(MalformedRecordError, match=r"train\.jsonl: line 2: not a KUCI record \(label 'e'"):
        build_splits("kuci", tmp_path, use_cache=False)


def test_jmmlu_short_row_names_file_and_line(shared_data, tmp_path, monkeypatch, empty_cache):
    import shutil
    shutil.copytree(shared_data / "jmmlu", tmp_path / "jmmlu")
    bad = tmp_path / "jmmlu" / "JMMLU" / "econometrics.csv"
    lines = bad.read_bytes().split(b"\n")
    bad.write_bytes(b"\n".join(lines[:2] + [b"only,three,fields"] + lines[2:]))
    _pin(monkeypatch, "jmmlu", "JMMLU/econometrics.csv", bad)
    with pytest.raises(MalformedRecordError, match=r"econometrics\.csv: line 3: expected 6 comma-separated fields, got 3"):
        build_splits("jmmlu", tmp_path, use_cache=False)


def test_mmlu_en_not_a_tar(tmp_path, monkeypatch, empty_cache):
    (tmp_path / "mmlu_en").mkdir()
    (tmp_path / "mmlu_en" / "data.tar").write_bytes(b"<html>moved</html>")
    _pin(monkeypatch, "mmlu_en", "data.tar", tmp_path / "mmlu_en" / "data.tar")
    with pytest.raises(MalformedRecordError, match=r"data\.tar: archive: not a tar file"):
        build_splits("mmlu_en", tmp_path, use_cache=False)


def test_mgsm_exemplars_are_parsed_not_executed(tmp_path, shared_data, monkeypatch, empty_cache):
    import shutil
    shutil.copytree(shared_data / "mgsm", tmp_path / "mgsm")
    exemplars = tmp_path / "mgsm" / "mgsm" / "exemplars.py"
    exemplars.write_text('import os\nEXEMPLAR_NUMBER_ANSWERS = [1]\nMGSM_EXEMPLARS = {"ja": {"1": {"q": os.getcwd()}}}\n',
                         encoding="utf-8")
    _pin(monkeypatch, "mgsm", "mgsm/exemplars.py", exemplars)
    with pytest.raises(MalformedRecordError, match=r"exemplars\.py: line 3: MGSM_EXEMPLARS is not a literal"):
        build_splits("mgsm", tmp_path, use_cache=False)
