"""Unlabeled passages for `hf-david generate`: a built-in corpus, local files, or a Hub dataset.

Rows come out as plain dicts, one at a time and in a fixed order (`dataset_scripts.readers.iter_rows`), so
a job can cut them into shards, resume by skipping finished shards, and keep malformed rows (None,
numbers, binary text, invalid JSON lines marked with `_error`) as rejects instead of failing to load the
whole file. A row holds whatever columns the source has; the job picks its text (and id) column.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dataset_scripts.readers import iter_rows, source_files

BUILTIN = "python-docs"
# 200 WikiText-2 paragraphs (CC BY-SA 3.0; provenance in that folder): the replication experiments' passages.
PACKAGED_WIKITEXT = Path(__file__).resolve().parent / "data" / "wikitext2" / "wikitext2_test_paragraphs_head200.jsonl"


@dataclass(frozen=True)
class Corpus:
    """A named, fingerprinted source of rows (dicts): `BUILTIN`, a local file or folder, or a Hub id."""

    spec: str
    config: str | None = None
    split: str = "train"
    revision: str | None = None

    def rows(self) -> Iterator[dict]:
        """The rows in a fixed order; a missing source fails here, before the first row."""
        if self.spec == BUILTIN:
            return python_docs_paragraphs()
        return iter_rows(self.spec, split=self.split, config=self.config, revision=self.revision)

    def fingerprint(self) -> str:
        """Changes when the corpus content may have changed: file sizes and mtimes, or the Hub spec."""
        path = Path(self.spec)
        parts: list[object] = [self.spec, self.config, self.split, self.revision]
        if path.exists():
            parts += [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in source_files(path)]
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]

    def describe(self) -> str:
        """How the corpus is named in cards: never a local absolute path."""
        if self.spec == BUILTIN:
            return "Python reference documentation prose (pydoc_data.topics)"
        path = Path(self.spec)
        if path.exists():
            return f"local files: {path.name}"
        return f"{self.spec}" + (f" ({self.config})" if self.config else "") + f", split {self.split}"


def python_docs_paragraphs(min_chars: int = 200) -> Iterator[dict]:
    """`{"id", "text"}` prose paragraphs of Python's reference docs (`pydoc_data.topics`), on every machine.

    Code samples, grammar rules and headings (indented or underlined blocks) are left out. Topics come in a
    fixed pseudo-random order, so the first few passages already span the docs.
    """
    from pydoc_data.topics import topics

    for topic in sorted(topics, key=lambda name: hashlib.sha1(name.encode()).hexdigest()):
        for n, block in enumerate(re.split(r"\n\s*\n", topics[topic])):
            lines = block.splitlines()
            if not lines or any(line.startswith((" ", "\t")) for line in lines):
                continue
            if any(re.fullmatch(r"[*=~^-]{3,}", line.strip()) for line in lines):
                continue
            text = " ".join(line.strip() for line in lines)
            if len(text) >= min_chars and not text.endswith(":"):
                yield {"id": f"{topic}-{n}", "text": text}
