"""The language of each passage: detected, recorded per row, and enforced with `--language`.

Reads the passages (`text_column`, and `id_column`). Writes `language` (an ISO 639-1 code from py3langid,
langid.py's model of 97 languages; "" for a passage that is not a string) and `source_id`, and with
`language` set marks passages of any other language `language_mismatch`. It runs before `Extract`, which
splits sentences (pysbd) and picks key phrases (yake) with the rules of the detected language where those
libraries have them, and before `GenerateInstructions`, whose English instruction-shape check applies to
English rows only. The detector's model loads once per process, on first use.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from transformers.hf_argparser import HfArg

from hf_david.stages.base import Stage, require_columns, with_rejects
from hf_david.stages.extract import ExtractConfig, source_id
from hf_david.stages.rejects import Reason


@dataclass
class LanguageConfig(ExtractConfig):
    """Language settings; they read the passages of the extraction settings (`text_column`, `id_column`)."""

    language: str | None = HfArg(
        default=None, help="keep only passages in this language (ISO 639-1, e.g. fr); others: language_mismatch"
    )
    detect_language: bool = HfArg(
        default=True, help="detect each passage's language (py3langid); off: every passage counts as --language"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.language is not None:
            self.language = self.language.strip().lower()
            if not re.fullmatch(r"[a-z]{2,3}", self.language):
                raise ValueError(f"language must be an ISO 639-1 code such as 'en' or 'fr', got {self.language!r}")


@functools.cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of `text`'s language, by py3langid."""
    code, probability = _identifier().classify(text)
    return str(code), float(probability)


class DetectLanguage(Stage):
    """Passages in; their `language` (and `source_id`) out; with `language` set, other languages marked."""

    name = "language"
    config_class = LanguageConfig

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        cfg = self.config
        require_columns(batch, cfg.text_column, cfg.id_column)
        texts = batch[cfg.text_column]
        languages, rejects = [], {}
        for i, text in enumerate(texts):
            if not cfg.detect_language or not isinstance(text, str) or not text.strip():
                languages.append(cfg.language or "")  # Extract rejects text that is not usable
                continue
            code, probability = detect_language(text)
            languages.append(code)
            if cfg.language and code != cfg.language:
                rejects[i] = (Reason.LANGUAGE_MISMATCH, f"detected {code} (p={probability:.2f}), not {cfg.language}")
        ids = [source_id(t, batch[cfg.id_column][i] if cfg.id_column else None) for i, t in enumerate(texts)]
        return with_rejects({**batch, "language": languages, "source_id": ids}, self.name, rejects)
