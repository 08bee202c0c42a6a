"""LongForm METEOR: the Hugging Face `evaluate` "meteor" module's scores, averaged per source subset.

Per row this is exactly what `evaluate`'s meteor module computes with nltk >= 3.6.5: NLTK's
`meteor_score` (max over references; `single_meteor_score` for a single string reference) on
`nltk.word_tokenize`d text, with alpha=0.9, beta=3, gamma=0.5. Two differences, both additive:
- one `compute()` may mix rows with a single reference string and rows with a list of references (the
  upstream module picks one input format from the first row and fails on the other);
- with `sources`, the score is averaged within each source subset and "meteor" is the plain mean of the
  subset scores, as the "All" column of the LongForm README; without, it is the mean over rows.
Scores are on the 0-1 scale of the upstream module (the LongForm tables print them x 100).
Matched against nltk 3.10.4 (pinned by hf_david: WordNet lookups changed between 3.8.1 and 3.9). It needs
NLTK's WordNet 3.0 and punkt_tab/english data; hf_david's `scripts/provision_nltk.sh` installs them
offline into `.venv/nltk_data`, which NLTK searches by default for the venv's interpreter.
"""

from __future__ import annotations

import importlib.metadata

import datasets
import evaluate
import nltk
import numpy as np
from nltk.translate import meteor_score

_CITATION = """\
@inproceedings{banarjee2005,
  title     = {{METEOR}: An Automatic Metric for {MT} Evaluation with Improved Correlation
               with Human Judgments},
  author    = {Banerjee, Satanjeev and Lavie, Alon},
  booktitle = {ACL Workshop on Intrinsic and Extrinsic Evaluation Measures for MT and/or Summarization},
  year      = {2005},
}
@article{koksal2023longform,
  title={LongForm: Effective Instruction Tuning with Reverse Instructions},
  author={K{\"o}ksal, Abdullatif and Schick, Timo and Korhonen, Anna and Sch{\"u}tze, Hinrich},
  journal={arXiv preprint arXiv:2304.08460},
  year={2023}
}
"""

_DESCRIPTION = __doc__

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of generated strings (None counts as "").
    references: per row, one reference string or a list of reference strings (rows may mix both).
    sources: optional list of source-subset names, one per row (LongForm's `source` column).
    alpha, beta, gamma: NLTK METEOR parameters (defaults 0.9, 3, 0.5, as upstream).
    per_instance: also return "meteor_per_instance".
Returns:
    {"meteor": float, "count": int}, plus "per_source": {source: {"meteor", "count"}} with `sources`.
Examples:
    >>> meteor = evaluate.load(hf_david.metrics.metric_path("longform_meteor"))
    >>> round(meteor.compute(predictions=["It is a guide to action which ensures that the military always "
    ...     "obeys the commands of the party"], references=["It is a guide to action that ensures that the "
    ...     "military will forever heed Party commands"])["meteor"], 4)
    0.6944
"""

NLTK_VERSION = importlib.metadata.version("nltk")
_NLTK_RESOURCES = {"corpora/wordnet": "WordNet 3.0", "tokenizers/punkt_tab/english/": "punkt_tab (english)"}


def _check_nltk_data() -> None:
    for resource, what in _NLTK_RESOURCES.items():
        try:
            nltk.data.find(resource)
        except LookupError:
            raise RuntimeError(
                f"longform_meteor needs NLTK's {what} data ({resource}), not found in {nltk.data.path}. "
                "Run `bash scripts/provision_nltk.sh` from the hf_david checkout (offline), or set NLTK_DATA."
            ) from None


class LongformMeteor(evaluate.Metric):
    __doc__ = _DESCRIPTION

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Value("string", id="sequence"),
                    "references": datasets.Sequence(datasets.Value("string", id="sequence"), id="references"),
                }
            ),
            codebase_urls=["https://github.com/nltk/nltk/blob/develop/nltk/translate/meteor_score.py"],
            reference_urls=["https://github.com/akoksal/LongForm"],
        )

    def _download_and_prepare(self, dl_manager) -> None:
        _check_nltk_data()

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Accept single-string references next to lists (stored as one-element lists)."""
        if references is not None:
            references = [[r] if isinstance(r, str) else r for r in references]
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Accept a single-string reference (stored as a one-element list)."""
        if isinstance(reference, str):
            reference = [reference]
        return super().add(prediction=prediction, reference=reference, **kwargs)

    def _compute(
        self,
        predictions: list[str | None],
        references: list[list[str]],
        sources: list[str] | None = None,
        alpha: float = 0.9,
        beta: float = 3,
        gamma: float = 0.5,
        per_instance: bool = False,
    ) -> dict:
        n = len(predictions)
        if n == 0:
            raise ValueError("longform_meteor: no predictions to score")
        if sources is not None and len(sources) != n:
            raise ValueError(f"sources has {len(sources)} rows but predictions has {n}")
        scores = []
        for row, (prediction, refs) in enumerate(zip(predictions, references, strict=True)):
            if not refs:
                raise ValueError(f"longform_meteor: row {row} has no references")
            hypothesis = nltk.word_tokenize(prediction or "")
            # One reference: single_meteor_score, as upstream does for string references (same value as
            # meteor_score over a one-element list).
            scores.append(
                meteor_score.meteor_score(
                    [nltk.word_tokenize(r) for r in refs], hypothesis, alpha=alpha, beta=beta, gamma=gamma
                )
                if len(refs) > 1
                else meteor_score.single_meteor_score(
                    nltk.word_tokenize(refs[0]), hypothesis, alpha=alpha, beta=beta, gamma=gamma
                )
            )
        result: dict = {"meteor": float(np.mean(scores)), "count": n}
        if sources is not None:
            rows: dict[str, list[float]] = {}
            for source, score in zip(sources, scores, strict=True):
                rows.setdefault(source, []).append(score)
            per_source = {s: {"meteor": float(np.mean(v)), "count": len(v)} for s, v in rows.items()}
            result["per_source"] = per_source
            result["meteor"] = float(np.mean([v["meteor"] for v in result["per_source"].values()]))
        if per_instance:
            result["meteor_per_instance"] = scores
        return result
