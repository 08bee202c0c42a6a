"""Unlabeled passages for `hf-david generate`: a built-in corpus, local files, or a Hub dataset.

Rows come out as plain dicts, one at a time and in a fixed order, so a job can cut them into shards,
resume by skipping finished shards, and keep malformed rows (None, numbers, binary text) as rejects
instead of failing to load the whole file.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BUILTIN = "python-docs"
SUFFIXES = (".jsonl", ".json", ".parquet", ".txt")


@dataclass(frozen=True)
class Corpus:
    """A named, fingerprinted source of rows (dicts)."""

    spec: str
    config: str | None = None
    split: str = "train"
    revision: str | None = None

    def rows(self) -> Iterator[dict]:
        if self.spec == BUILTIN:
            return python_docs_paragraphs()
        path = Path(self.spec)
        if path.exists():
            return itertools.chain.from_iterable(_file_rows(f) for f in _files(path))
        if re.fullmatch(r"[\w.-]+(/[\w.-]+)?", self.spec):
            from datasets import load_dataset

            stream = load_dataset(self.spec, self.config, split=self.split, revision=self.revision, streaming=True)
            return iter(stream)
        raise FileNotFoundError(f"--corpus {self.spec!r} is neither a local file/folder nor a Hub dataset id")

    def fingerprint(self) -> str:
        """Changes when the corpus content may have changed: file sizes and mtimes, or the Hub spec."""
        path = Path(self.spec)
        parts: list[object] = [self.spec, self.config, self.split, self.revision]
        if path.exists():
            parts += [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in _files(path)]
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]

    def describe(self) -> str:
        """How the corpus is named in cards: never a local absolute path."""
        if self.spec == BUILTIN:
            return "Python reference documentation prose (pydoc_data.topics)"
        path = Path(self.spec)
        if path.exists():
            return f"local files: {path.name}"
        return f"{self.spec}" + (f" ({self.config})" if self.config else "") + f", split {self.split}"


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(f for f in path.rglob("*") if f.suffix in SUFFIXES and f.is_file())
    if not files:
        raise FileNotFoundError(f"no {'/'.join(SUFFIXES)} files under {path}")
    return files


def _file_rows(path: Path) -> Iterator[dict]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches():
            yield from batch.to_pylist()
    elif path.suffix == ".txt":
        for n, paragraph in enumerate(re.split(r"\n\s*\n", path.read_text(errors="replace"))):
            if paragraph.strip():
                yield {"id": f"{path.name}:{n}", "text": paragraph.strip()}
    elif path.suffix == ".json" and path.read_text().lstrip().startswith("["):
        yield from json.loads(path.read_text())
    else:
        with path.open(errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    row = {"text": None, "_error": f"{path.name} line {n}: invalid JSON ({exc.msg})"}
                yield row if isinstance(row, dict) else {"text": row}


def python_docs_paragraphs(min_chars: int = 200) -> Iterator[dict]:
    """Prose paragraphs of Python's reference docs (`pydoc_data.topics`), on every machine with Python.

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
