"""JGLUE (yahoojapan/JGLUE): jnli (NLI), jsquad (RC), jcommonsenseqa (MC), jsts (STS, not in AVG). CC BY-SA 4.0.

Upstream: github.com/yahoojapan/JGLUE, tag v1.1.0: datasets/<name>-v1.1/{train,valid}-v1.1.json.
Rules: llm-jp-eval v1.3.0 datasets/{jnli,jsquad,jcommonsenseqa,jsts}.py: the official train file shuffled (seed 42)
9:1 → train/dev, the official valid file → test.
Deviations: the tag v1.1.0 instead of llm-jp-eval's main-branch URLs, as LLM-jp's own installers do (main later
changed, then deleted these files); jcommonsenseqa's and jsts's dev files equal v1.4.1's published sha256.
Details: docs/datasets.md#jglue
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from lm_eval_jaster.datasets.base import (DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits, nli_input,
                                          read_json_lines, split_train_dev)

HOMEPAGE = "https://github.com/yahoojapan/JGLUE"


def _lines_builder(prefix: str, to_sample: Callable[[dict], Sample]) -> Callable[[RawFiles], Splits]:
    def read(path: Path) -> list[Sample]:
        return read_json_lines(path, to_sample, "a JGLUE record")

    def build(files: RawFiles) -> Splits:
        train, dev = split_train_dev(read(files.path(f"{prefix}/train-v1.1.json")))
        return {"train": train, "dev": dev, "test": read(files.path(f"{prefix}/valid-v1.1.json"))}

    return build


def _jnli(r: dict) -> Sample:
    return Sample(nli_input(r["sentence1"], r["sentence2"]), r["label"])


def _jcommonsenseqa(r: dict) -> Sample:
    choices = ",".join(f"{i}.{r[f'choice{i}']}" for i in range(5))
    return Sample(f"質問：{r['question']}\n選択肢：{choices}", str(r["label"]))


def _jsts(r: dict) -> Sample:
    # str() of the JSON float, e.g. "3.799999952316284", "4.0"
    return Sample(f"文1：{r['sentence1']}\n文2：{r['sentence2']}", str(r["label"]))


def _read_jsquad(path: Path) -> list[Sample]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        # JGLUE's context already contains "title [SEP] paragraph".
        return [Sample(f"文章：{p['context']}\n質問：{q['question']}", q["answers"][0]["text"])
                for article in data for p in article["paragraphs"] for q in p["qas"]]
    except (json.JSONDecodeError, KeyError, IndexError, TypeError) as e:
        raise MalformedRecordError(path, "document", f"not SQuAD-format JSON ({e!r})") from e


def _build_jsquad(files: RawFiles) -> Splits:
    train, dev = split_train_dev(_read_jsquad(files.path("datasets/jsquad-v1.1/train-v1.1.json")))
    return {"train": train, "dev": dev, "test": _read_jsquad(files.path("datasets/jsquad-v1.1/valid-v1.1.json"))}


DATASETS = [
    DatasetInfo(
        name="jnli",
        category="NLI",
        instruction='前提と仮説の関係をentailment、contradiction、neutralの中から回答してください。それ以外には何も含めないことを厳守してください。\n\n制約：\n- 前提から仮説が、論理的知識や常識的知識を用いて導出可能である場合はentailmentと出力\n- 前提と仮説が両立しえない場合はcontradictionと出力\n- そのいずれでもない場合はneutralと出力',
        output_length=3,
        metrics=("exact_match",),
        source="jnli",
        license="CC BY-SA 4.0",
        homepage=HOMEPAGE,
        build=_lines_builder("datasets/jnli-v1.1", _jnli),
        published_dev_sha256="d40257164b1bf2eaeae370c9879819ff5509964ea116ee4148dca062a9c02e0f",
        answer_format="label",
        labels=("entailment", "contradiction", "neutral"),
    ),
    DatasetInfo(
        name="jsquad",
        category="RC",
        instruction='質問に対する回答を文章から一言で抽出してください。回答は名詞で答えてください。 それ以外には何も含めないことを厳守してください。',
        output_length=25,
        metrics=("char_f1",),
        source="jsquad",
        license="CC BY-SA 4.0",
        homepage=HOMEPAGE,
        build=_build_jsquad,
        published_dev_sha256="0dcac3647a3768deeae53dc058474b21a3f4d9d37ffa3a3ec541505964afac8e",
    ),
    DatasetInfo(
        name="jcommonsenseqa",
        category="MC",
        instruction='質問と回答の選択肢を入力として受け取り、選択肢から回答を選択してください。なお、回答は選択肢の番号（例：0）でするものとします。 回答となる数値をint型で返し、他には何も含めないことを厳守してください。',
        output_length=1,
        metrics=("exact_match",),
        source="jcommonsenseqa",
        license="CC BY-SA 4.0",
        homepage=HOMEPAGE,
        build=_lines_builder("datasets/jcommonsenseqa-v1.1", _jcommonsenseqa),
        published_dev_sha256="ac30df014eee8d24d62a5e1fbd4ed1e3b5d76bffb836ffb4c9fa59e72a056591",
        answer_format="choice",
    ),
    DatasetInfo(
        name="jsts",
        category="STS",
        instruction='日本語の文ペアの意味がどのくらい近いかを判定し、類似度を0.0〜5.0までの間の値で付与してください。0.0に近いほど文ペアの意味が異なり、5.0に近いほど文ペアの意味が似ていることを表しています。整数値のみを返し、それ以外には何も含めないことを厳守してください。',
        output_length=3,
        metrics=("pearson", "spearman"),
        source="jsts",
        license="CC BY-SA 4.0",
        homepage=HOMEPAGE,
        build=_lines_builder("datasets/jsts-v1.1", _jsts),
        published_dev_sha256="e17f77bdd3ffc3cccf4b3a1af8a1463b8cae260ba8c607188b8e4b45f468806e",
        answer_format="number",
    ),
]
