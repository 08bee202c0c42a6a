"""Extract-then-generate, step 1: cut unlabeled passages into candidate *outputs* at several levels.

Reads the `text_column` of each row (and `id_column` if set, and `language` if `DetectLanguage` wrote it:
sentences and key phrases then follow that language's rules where pysbd and yake have them; else English's).
Writes one row per extracted segment: `output` (the segment), `context` (the source passage), `level`,
`source_id`, plus the row's other columns, and the reject columns (`hf_david.stages.rejects`). Varied
outputs lead to varied instructions. A passage that cannot be used (empty, not a string, binary, too long)
becomes one rejected row.

Levels: `passage` (no extraction, the baseline), `keywords` (yake key phrases), `sentence` (a seeded random
span of 1-3 sentences), `fragment` (an LM copies its most self-contained informative sentence; kept only if
verbatim in the passage, else replaced by a fresh sentence span, recorded as level `sentence`).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from typing import Literal

import pysbd
import yake
from pysbd.languages import LANGUAGE_CODES as PYSBD_LANGUAGES
from transformers.hf_argparser import HfArg

from hf_david.models import Sampling, load_tokenizer
from hf_david.prompts import FRAGMENT_EXTRACTION, load_prompt
from hf_david.stages.base import ModelSettings, Stage, derive_seed, require_columns, with_rejects
from hf_david.stages.rejects import Reason

LEVELS = ("passage", "keywords", "sentence", "fragment")


@dataclass
class ExtractConfig(ModelSettings):
    """Extraction settings. `model` gives the tokenizer for the limits and, unless `fragment_model` is set,
    the LM that picks `fragment`s."""

    text_column: str = HfArg(default="text", help="column holding the passages")
    id_column: str | None = HfArg(default=None, help="column with row ids; unset: a hash of the text")
    levels: list[str] = HfArg(
        default_factory=lambda: list(LEVELS), help=f"segment levels, a subset of {','.join(LEVELS)} ('a,b' works)"
    )
    fragment_model: str | None = HfArg(default=None, help="LM that picks fragments; unset: --model")
    min_output_tokens: int = HfArg(default=3, help="shortest segment kept, in tokens")
    max_output_tokens: int = HfArg(default=160, help="longest segment kept, in tokens")
    max_passage_tokens: int = HfArg(default=400, help="longer passages are truncated or skipped")
    long_passages: Literal["truncate", "skip"] = HfArg(default="truncate", help="what to do with long passages")
    keywords: int = HfArg(default=5, help="key phrases in a `keywords` segment")
    max_sentences: int = HfArg(default=3, help="longest `sentence` span, in sentences")
    fragment_max_new_tokens: int = HfArg(default=96, help="tokens the LM may write for a fragment")
    fragment_batch_size: int = HfArg(default=16, help="passages per fragment engine call (length-sorted)")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.levels = [level for item in self.levels for level in item.split(",") if level]
        unknown = set(self.levels) - set(LEVELS)
        if unknown or not self.levels:
            raise ValueError(f"levels must be a non-empty subset of {LEVELS}, got {self.levels}")
        if self.long_passages not in ("truncate", "skip"):
            raise ValueError(f"long_passages must be 'truncate' or 'skip', got {self.long_passages!r}")


def source_id(text: object, row_id: object = None) -> str:
    """The row's id if given, else a content hash: stable across runs, shards and processes."""
    if row_id is not None:
        return str(row_id)
    return hashlib.sha1(repr(text).encode("utf-8", "replace")).hexdigest()[:16]


def check_text(text: object) -> tuple[Reason, str] | None:
    """Why a passage cannot be used, as (reason, detail), or None if it can."""
    if text is None:
        return Reason.TEXT_MISSING, "text is None"
    if not isinstance(text, str):
        return Reason.TEXT_NOT_STRING, f"text is {type(text).__name__}, not str"
    if not text.strip():
        return Reason.TEXT_EMPTY, "text is empty"
    printable = sum(ch.isprintable() or ch in "\n\t\r" for ch in text)
    if "\x00" in text or printable < 0.95 * len(text):
        return Reason.TEXT_BINARY, "text is binary or mostly non-printable"
    return None


class Extract(Stage):
    """Passages in, one row per (passage, level) segment out.

    Reads `text_column` (and `id_column`). Writes `output`, `context`, `level`, `source_id` and the reject
    columns, plus the row's other columns, repeated for each segment. A passage that cannot be used becomes
    one rejected row.
    """

    name = "extract"
    config_class = ExtractConfig

    def __init__(self, config: ExtractConfig | None = None) -> None:
        super().__init__(config)
        self._segmenters: dict[str, pysbd.Segmenter] = {}  # by language, made on first use

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        cfg = self.config
        require_columns(batch, cfg.text_column, cfg.id_column)
        texts = batch[cfg.text_column]
        ids = [source_id(t, batch[cfg.id_column][i] if cfg.id_column else None) for i, t in enumerate(texts)]
        languages = [lang or "en" for lang in batch.get("language") or [""] * len(texts)]  # see stages.language
        passages, rejects = self._passages(texts, languages)
        fragments = self._fragments(passages) if "fragment" in cfg.levels else {}
        rows: list[tuple[int, str, str]] = []  # (input row, output, level); "" output for a rejected row
        marks: dict[int, tuple[Reason, str]] = {}
        for i in range(len(texts)):
            fragment = fragments.get(i)
            segments = [] if i in rejects else self._segments_within_limits(passages[i], ids[i], fragment, languages[i])
            if i not in rejects and not segments:
                rejects[i] = (Reason.NO_SEGMENT, "no segment within the token limits")
            if i in rejects:
                marks[len(rows)] = rejects[i]
                segments = [("", "")]
            rows += [(i, output, level) for output, level in segments]
        out = {key: [batch[key][i] for i, _, _ in rows] for key in batch}
        out.update(
            output=[output for _, output, _ in rows],
            context=[passages.get(i, "") for i, _, _ in rows],
            level=[level for _, _, level in rows],
            source_id=[ids[i] for i, _, _ in rows],
        )
        return with_rejects(out, self.name, marks)

    def _passages(self, texts: list, languages: list[str]) -> tuple[dict[int, str], dict[int, tuple[Reason, str]]]:
        """The usable passages (whitespace-normalised, fitted to the limit) and the rejected ones, by row."""
        tokenizer = load_tokenizer(self.config.model, self.config.revision)
        passages, rejects = {}, {}
        for i, text in enumerate(texts):
            problem = check_text(text)
            if problem is None:
                text, problem = self._fit_passage(" ".join(text.split()), tokenizer, languages[i])
            if problem is None:
                passages[i] = text
            else:
                rejects[i] = problem
        return passages, rejects

    def _segments_within_limits(
        self, passage: str, sid: str, fragment: str | None, language: str = "en"
    ) -> list[tuple[str, str]]:
        """(segment, level) for every configured level, deduplicated, within the output token limits."""
        cfg = self.config
        tokenizer = load_tokenizer(cfg.model, cfg.revision)
        kept: dict[str, str] = {}
        for level in cfg.levels:
            for segment, kept_level in self._segments(passage, sid, level, fragment, language):
                n_tokens = len(tokenizer(segment, add_special_tokens=False).input_ids)
                if segment not in kept and cfg.min_output_tokens <= n_tokens <= cfg.max_output_tokens:
                    kept[segment] = kept_level
        return list(kept.items())

    def _fit_passage(self, text: str, tokenizer, language: str = "en") -> tuple[str, tuple[Reason, str] | None]:
        """Truncate (at a sentence boundary) or skip a passage longer than `max_passage_tokens`."""
        limit = self.config.max_passage_tokens
        if len(tokenizer(text, add_special_tokens=False).input_ids) <= limit:
            return text, None
        if self.config.long_passages == "skip":
            return text, (Reason.PASSAGE_TOO_LONG, f"passage longer than {limit} tokens")
        kept = self._prefix_within(self._sentences(text, language), limit, tokenizer)
        return (
            (kept, None) if kept else (text, (Reason.SENTENCE_TOO_LONG, f"first sentence longer than {limit} tokens"))
        )

    def _prefix_within(self, sentences: list[str], limit: int, tokenizer) -> str:
        kept = ""
        for sentence in sentences:
            candidate = f"{kept} {sentence}".strip()
            if len(tokenizer(candidate, add_special_tokens=False).input_ids) > limit:
                break
            kept = candidate
        return kept

    def _sentences(self, text: str, language: str = "en") -> list[str]:
        """pysbd's sentences of `text`, by the rules of `language` where pysbd has them, else English's."""
        language = language if language in PYSBD_LANGUAGES else "en"
        if language not in self._segmenters:
            self._segmenters[language] = pysbd.Segmenter(language=language, clean=False)
        return [s.strip() for s in self._segmenters[language].segment(text) if s.strip()]

    def _segments(self, passage: str, sid: str, level: str, fragment: str | None, language: str = "en"):
        cfg = self.config
        if level == "passage":
            tokenizer = load_tokenizer(cfg.model, cfg.revision)
            yield self._prefix_within(self._sentences(passage, language), cfg.max_output_tokens, tokenizer), level
        elif level == "keywords":
            extractor = yake.KeywordExtractor(lan=language, n=3, top=cfg.keywords)  # yake: stopwords by language
            phrases = [kw for kw, _score in extractor.extract_keywords(passage)]
            if phrases:
                yield ", ".join(phrases), level
        elif level == "sentence":
            yield from self._span(passage, sid, "sentence", language)
        elif fragment:
            yield fragment, level
        else:
            yield from self._span(passage, sid, "fragment-fallback", language)

    def _span(self, passage: str, sid: str, stream: str, language: str = "en"):
        sentences = self._sentences(passage, language)
        rng = random.Random(derive_seed(self.config.seed, sid, stream))
        length = rng.randint(1, min(self.config.max_sentences, len(sentences)))
        start = rng.randrange(len(sentences) - length + 1)
        yield " ".join(sentences[start : start + length]), "sentence"

    def _fragments(self, passages: dict[int, str]) -> dict[int, str]:
        """Ask the LM (greedy) to copy one sentence per passage; keep only verbatim copies."""
        cfg = self.config
        model = cfg.fragment_model or cfg.model
        engine, tokenizer = cfg.engine_for(model), load_tokenizer(model, cfg.revision)
        prompt = load_prompt(FRAGMENT_EXTRACTION)
        greedy = Sampling(k=1, max_new_tokens=cfg.fragment_max_new_tokens, do_sample=False)
        order = sorted(passages, key=lambda i: len(passages[i]))
        kept: dict[int, str] = {}
        for start in range(0, len(order), cfg.fragment_batch_size):
            chunk = order[start : start + cfg.fragment_batch_size]
            messages = [prompt.messages(context=passages[i]) for i in chunk]
            prompts = [
                list(tokenizer.apply_chat_template(m, add_generation_prompt=True, return_dict=True)["input_ids"])
                for m in messages
            ]
            new = [ids for (ids,) in engine.sample(prompts, greedy, [0] * len(chunk))]
            self.stats.tokens += sum(map(len, new))
            for i, text in zip(chunk, tokenizer.batch_decode(new, skip_special_tokens=True), strict=True):
                fragment = re.sub(r"\s+", " ", text).strip().strip('"')
                if len(fragment) > 1 and fragment != passages[i] and fragment in passages[i]:
                    kept[i] = fragment
        return kept
