"""Kana conversion for ``jaster_wiki_reading``: a lenient, diagnostic view of reading predictions.

This is NOT llm-jp-eval's scoring. llm-jp-eval scores wiki_reading with ``char_f1`` after its strict
post-processing (:func:`lm_eval_jaster.metrics.normalize`); that remains the reported score. The view here
(:func:`normalize_reading`, :class:`KanaReadingFilter`) is reported beside it, never instead of it: it turns
katakana into hiragana and re-reads any kanji left in the answer with fugashi + unidic-lite, so that a model
that knows the reading but writes it in the wrong script can be told apart from one that does not know it.

fugashi is imported, and its Tagger built, only on the first call that needs it (once per process).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

from lm_eval.api.filter import Filter

__all__ = ["katakana_to_hiragana", "has_kanji", "reading", "normalize_reading", "KanaReadingFilter"]

# Katakana ァ (U+30A1) .. ヶ (U+30F6) map to hiragana ぁ (U+3041) .. ゖ (U+3096), 0x60 lower; this includes
# ヴ→ゔ, ヵ→ゕ, ヶ→ゖ. ー, ・, ヽヾ, ヷ-ヺ (no hiragana counterpart) and every other character are kept.
_KATA_TO_HIRA = {cp: cp - 0x60 for cp in range(0x30A1, 0x30F7)}

# Kanji: CJK unified ideographs (+ extension A, B..H), compatibility ideographs, and the marks that stand for
# a kanji and need a reading: 々 (iteration), 〆, 〇.
_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff\u3005\u3006\u3007"
_KANJI_RE = re.compile(f"[{_KANJI}]")
# Tokens that get a dictionary reading: any kanji or full-width katakana (ァ..ヺ).
_NEEDS_READING_RE = re.compile(f"[{_KANJI}\u30a1-\u30fa]")

_tagger: Any = None
_tagger_lock = threading.Lock()


def katakana_to_hiragana(text: str) -> str:
    """Full-width katakana → hiragana (ヴ→ゔ, ヵ→ゕ, ヶ→ゖ); ー and everything else unchanged."""
    return text.translate(_KATA_TO_HIRA)


def has_kanji(text: str) -> bool:
    """True if ``text`` holds a kanji (or 々 〆 〇)."""
    return _KANJI_RE.search(text) is not None


def _get_tagger():
    """The process-wide fugashi Tagger (unidic-lite), built on first use."""
    global _tagger
    if _tagger is None:
        with _tagger_lock:
            if _tagger is None:
                import fugashi  # heavy: only when a reading is actually needed

                _tagger = fugashi.Tagger()
    return _tagger


def reading(text: str) -> str:
    """Hiragana reading of ``text`` by fugashi + unidic-lite.

    Tokens with kanji or katakana are replaced by their unidic reading (``feature.kana``) in hiragana, or by
    their surface in hiragana when unidic has none (unknown words: None; symbols: ""). Other tokens (pure
    hiragana, ASCII, digits, punctuation) are kept as written, and so is the whitespace between tokens.
    """
    if not text:
        return ""
    out = []
    for word in _get_tagger()(text):
        out.append(word.white_space)
        surface = word.surface
        if _NEEDS_READING_RE.search(surface):
            kana = word.feature.kana
            out.append(katakana_to_hiragana(kana if kana else surface))
        else:
            out.append(surface)
    out.append(text[len(text.rstrip()):])  # MeCab drops trailing whitespace; leading is in white_space
    return "".join(out)


def normalize_reading(raw_generation: str) -> str:
    """Lenient post-processing of a wiki_reading answer.

    Text before the first "\\n\\n" (as llm-jp-eval), NFKC, strip, katakana → hiragana; only if a kanji
    remains is the text re-read with :func:`reading` (which applies the same katakana → hiragana to every
    token, but segments the text before that conversion, as MeCab expects mixed-script Japanese).
    Kanji-free input therefore only has its katakana turned into hiragana.
    """
    text = unicodedata.normalize("NFKC", raw_generation.split("\n\n")[0]).strip()
    if has_kanji(text):
        return reading(text)
    return katakana_to_hiragana(text)


class KanaReadingFilter(Filter):
    """lm-eval filter: :func:`normalize_reading` on every response (diagnostic view, not llm-jp-eval's)."""

    def __init__(self, **kwargs) -> None:
        super().__init__()

    def apply(self, resps, docs):
        return [[normalize_reading(r) for r in responses] for responses in resps]
