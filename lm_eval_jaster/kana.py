"""Kana view of ``jaster_wiki_reading``: a lenient, diagnostic view of reading predictions that only forgives script.

This is NOT llm-jp-eval's scoring. llm-jp-eval scores wiki_reading with ``char_f1`` after its strict
post-processing (:func:`lm_eval_jaster.metrics.normalize`); that remains the reported score. The view here
(:func:`normalize_reading`, the ``lenient`` pipeline of the task) is reported beside it, never instead of it: it turns
katakana into hiragana (after NFKC, which also folds half-width katakana and full-width letters), so that a model
that writes the reading in the wrong kana script is told apart from one that does not know it. It never reads kanji:
producing the reading is the task, so kanji left in an answer stay in the text and the metric fails them
(:func:`has_kanji` tells how often that happens).

:func:`reading` (fugashi + unidic-lite) is not part of any score: it is the dictionary baseline of
``utils/wiki_reading_baseline.py``, a reference point. fugashi is imported, and its Tagger built, only on the first
call of :func:`reading` (once per process).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

__all__ = ["katakana_to_hiragana", "has_kanji", "reading", "normalize_reading"]

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
    """True if ``text`` holds a kanji (or 々 〆 〇): for a reading answer, the diagnostic "kanji left"."""
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
    """Hiragana reading of ``text`` by fugashi + unidic-lite: the dictionary baseline (a reference point, never
    applied to a model's answer).

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
    """The kana view of a wiki_reading answer: text before the first "\\n\\n" (as llm-jp-eval), NFKC, strip,
    katakana → hiragana. Nothing else: kanji stay as written (and count as wrong). Never raises on a ``str``."""
    return katakana_to_hiragana(unicodedata.normalize("NFKC", raw_generation.split("\n\n")[0]).strip())
