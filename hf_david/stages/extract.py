"""Extract-then-generate, step 1: cut unlabeled passages into candidate *outputs* at several levels.

Reads the `text_column` of each row (and `id_column` if set). Writes one row per extracted segment:
`output` (the segment), `context` (the source passage), `level`, `source_id`, plus the row's other
columns, and `reject_stage`/`reject_reason` ("" when fine). Varied outputs lead to varied instructions.
A passage that cannot be used (empty, not a string, binary, too long) becomes one rejected row.

Levels: `passage` (no extraction, the baseline), `keywords` (yake key phrases), `sentence` (a seeded random
span of 1-3 sentences), `fragment` (an LM copies its most self-contained informative sentence; kept only if
verbatim in the passage, else replaced by a fresh sentence span, recorded as level `sentence`).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

import pysbd
import torch
import yake

from hf_david.models import DEFAULT_MODEL, load_model, load_tokenizer
from hf_david.prompts import FRAGMENT_EXTRACTION, load_prompt
from hf_david.stages.base import REJECT_REASON, REJECT_STAGE, Transform, derive_seed

LEVELS = ("passage", "keywords", "sentence", "fragment")


@dataclass
class ExtractConfig:
    text_column: str = "text"
    id_column: str | None = None
    levels: tuple[str, ...] = LEVELS
    model: str = DEFAULT_MODEL  # tokenizer for the limits, and the LM for `fragment`
    revision: str | None = None
    min_output_tokens: int = 3
    max_output_tokens: int = 160
    max_passage_tokens: int = 400
    long_passages: str = "truncate"  # or "skip"
    keywords: int = 5
    max_sentences: int = 3
    fragment_max_new_tokens: int = 96
    batch_size: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        self.levels = tuple(self.levels)
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


def check_text(text: object) -> str | None:
    """Why a passage cannot be used, or None if it can."""
    if text is None:
        return "text is None"
    if not isinstance(text, str):
        return f"text is {type(text).__name__}, not str"
    if not text.strip():
        return "text is empty"
    printable = sum(ch.isprintable() or ch in "\n\t\r" for ch in text)
    if "\x00" in text or printable < 0.95 * len(text):
        return "text is binary or mostly non-printable"
    return None


class Extract(Transform):
    """Passages in, one row per (passage, level) segment out."""

    stage = "extract"

    def __init__(self, config: ExtractConfig | None = None) -> None:
        super().__init__(config or ExtractConfig())
        self._segmenter = pysbd.Segmenter(language="en", clean=False)

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        cfg = self.config
        if cfg.text_column not in batch:
            raise KeyError(f"column {cfg.text_column!r} not found; columns are {sorted(batch)}")
        if cfg.id_column and cfg.id_column not in batch:
            raise KeyError(f"id column {cfg.id_column!r} not found; columns are {sorted(batch)}")
        texts = batch[cfg.text_column]
        ids = [source_id(t, batch[cfg.id_column][i] if cfg.id_column else None) for i, t in enumerate(texts)]
        tokenizer = load_tokenizer(cfg.model, cfg.revision)
        passages: dict[int, str] = {}
        reasons: dict[int, str] = {}
        for i, text in enumerate(texts):
            reason = check_text(text)
            if reason is None:
                text, reason = self._fit_passage(" ".join(text.split()), tokenizer)
            if reason is None:
                passages[i] = text
            else:
                reasons[i] = reason
        fragments = self._fragments(passages) if "fragment" in cfg.levels else {}

        out: dict[str, list] = {k: [] for k in [*batch, "output", "context", "level", "source_id"]}
        out[REJECT_STAGE], out[REJECT_REASON] = [], []

        def emit(i: int, output: str, level: str, stage: str = "", reason: str = "") -> None:
            for key in batch:
                out[key].append(batch[key][i])
            out["output"].append(output)
            out["context"].append(passages.get(i, ""))
            out["level"].append(level)
            out["source_id"].append(ids[i])
            out[REJECT_STAGE].append(stage)
            out[REJECT_REASON].append(reason)

        for i in range(len(texts)):
            if i in reasons:
                emit(i, "", "", self.stage, reasons[i])
                continue
            seen: set[str] = set()
            for level in cfg.levels:
                for segment, kept_level in self._segments(passages[i], ids[i], level, fragments.get(i)):
                    n_tokens = len(tokenizer(segment, add_special_tokens=False).input_ids)
                    if segment in seen or not cfg.min_output_tokens <= n_tokens <= cfg.max_output_tokens:
                        continue
                    seen.add(segment)
                    emit(i, segment, kept_level)
            if not seen:
                emit(i, "", "", self.stage, "no segment within the token limits")
        return out

    def _fit_passage(self, text: str, tokenizer) -> tuple[str, str | None]:
        """Truncate (at a sentence boundary) or skip a passage longer than `max_passage_tokens`."""
        limit = self.config.max_passage_tokens
        if len(tokenizer(text, add_special_tokens=False).input_ids) <= limit:
            return text, None
        if self.config.long_passages == "skip":
            return text, f"passage longer than {limit} tokens"
        kept = self._prefix_within(self._sentences(text), limit, tokenizer)
        return (kept, None) if kept else (text, f"first sentence longer than {limit} tokens")

    def _prefix_within(self, sentences: list[str], limit: int, tokenizer) -> str:
        kept = ""
        for sentence in sentences:
            candidate = f"{kept} {sentence}".strip()
            if len(tokenizer(candidate, add_special_tokens=False).input_ids) > limit:
                break
            kept = candidate
        return kept

    def _sentences(self, text: str) -> list[str]:
        return [s.strip() for s in self._segmenter.segment(text) if s.strip()]

    def _segments(self, passage: str, sid: str, level: str, fragment: str | None):
        cfg = self.config
        if level == "passage":
            tokenizer = load_tokenizer(cfg.model, cfg.revision)
            yield self._prefix_within(self._sentences(passage), cfg.max_output_tokens, tokenizer), level
        elif level == "keywords":
            extractor = yake.KeywordExtractor(lan="en", n=3, top=cfg.keywords)
            phrases = [kw for kw, _score in extractor.extract_keywords(passage)]
            if phrases:
                yield ", ".join(phrases), level
        elif level == "sentence":
            yield from self._span(passage, sid, "sentence")
        elif fragment:
            yield fragment, level
        else:
            yield from self._span(passage, sid, "fragment-fallback")

    def _span(self, passage: str, sid: str, stream: str):
        sentences = self._sentences(passage)
        rng = random.Random(derive_seed(self.config.seed, sid, stream))
        length = rng.randint(1, min(self.config.max_sentences, len(sentences)))
        start = rng.randrange(len(sentences) - length + 1)
        yield " ".join(sentences[start : start + length]), "sentence"

    @torch.inference_mode()
    def _fragments(self, passages: dict[int, str]) -> dict[int, str]:
        """Ask the LM (greedy) to copy one sentence per passage; keep only verbatim copies."""
        cfg = self.config
        model, tokenizer = load_model(cfg.model, cfg.revision)
        prompt = load_prompt(FRAGMENT_EXTRACTION)
        order = sorted(passages, key=lambda i: len(passages[i]))
        kept: dict[int, str] = {}
        for start in range(0, len(order), cfg.batch_size):
            chunk = order[start : start + cfg.batch_size]
            enc = tokenizer.apply_chat_template(
                [prompt.messages(context=passages[i]) for i in chunk],
                add_generation_prompt=True,
                padding=True,
                return_tensors="pt",
                return_dict=True,
            )
            generated = model.generate(**enc, max_new_tokens=cfg.fragment_max_new_tokens, do_sample=False)
            new = generated[:, enc["input_ids"].shape[1] :]
            self.stats.tokens += int((new != tokenizer.pad_token_id).sum())
            for i, text in zip(chunk, tokenizer.batch_decode(new, skip_special_tokens=True), strict=True):
                fragment = re.sub(r"\s+", " ", text).strip().strip('"')
                if len(fragment) > 1 and fragment != passages[i] and fragment in passages[i]:
                    kept[i] = fragment
        return kept
