"""What the translation datasets (ALT, WikiCorpus) share: llm-jp-eval's instructions and metrics, the length filter,
and the two DatasetInfos (English→Japanese, Japanese→English) of one parallel corpus."""

from __future__ import annotations

from typing import Callable

from lm_eval_jaster.datasets.base import DatasetInfo, RawFiles, Sample, Splits

E_TO_J_INSTRUCTION = "これから提示する英語の文章を日本語に翻訳してください。必ず日本語の訳文のみを出力し、それ以外には何も含めないことを厳守してください。"
J_TO_E_INSTRUCTION = "これから提示する日本語の文章を英語に翻訳してください。必ず英語の訳文のみを出力し、それ以外には何も含めないことを厳守してください。"
E_TO_J_METRICS = ("bleu_ja", "bert_score_ja_f1", "comet_wmt22")  # llm-jp-eval's order (it is in the exported JSON)
J_TO_E_METRICS = ("bleu_en", "bert_score_en_f1", "comet_wmt22")
MAX_PAIR_CHARS = 500  # a (ja, en) pair is kept when len(ja) + len(en) is below this

Pair = tuple[str, str]  # (ja, en)


def kept(pairs: list[Pair]) -> list[Pair]:
    return [(ja, en) for ja, en in pairs if len(ja) + len(en) < MAX_PAIR_CHARS]


def samples(pairs: list[Pair], japanese_to_english: bool) -> list[Sample]:
    return [Sample(ja, en) if japanese_to_english else Sample(en, ja) for ja, en in pairs]


def translation_datasets(corpus: str, source: str, license: str, homepage: str,
                         builder: Callable[[bool], Callable[[RawFiles], Splits]],
                         output_lengths: tuple[int, int], dev_sha256: tuple[str, str]) -> list[DatasetInfo]:
    """``<corpus>-e-to-j`` and ``<corpus>-j-to-e``; ``builder(japanese_to_english)`` builds one direction; the
    pairs are (e-to-j, j-to-e)."""
    directions = (("e-to-j", E_TO_J_INSTRUCTION, E_TO_J_METRICS, False),
                  ("j-to-e", J_TO_E_INSTRUCTION, J_TO_E_METRICS, True))
    return [DatasetInfo(name=f"{corpus}-{direction}", category="MT", instruction=instruction,
                        output_length=output_length, metrics=metrics, key="comet_wmt22", source=source,
                        license=license, homepage=homepage, build=builder(japanese_to_english),
                        published_dev_sha256=sha256, answer_format="text")
            for (direction, instruction, metrics, japanese_to_english), output_length, sha256
            in zip(directions, output_lengths, dev_sha256)]
