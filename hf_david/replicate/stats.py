"""The numbers every experiment reports: a point estimate with a seeded 95% bootstrap interval, ROUGE-L, and
the pairwise n-gram distance of a set of instructions.

Intervals are percentile bootstrap intervals over rows (`scipy.stats.bootstrap`, 95%). A difference
between two methods on the same rows is bootstrapped paired: the rows are resampled, not the two arms
separately.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
from rouge_score import rouge_scorer
from scipy.stats import bootstrap

from hf_david.publish.diversity import words

_ROUGE = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)  # as SuperNI's official scorer


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 x 100 (rouge-score with the Porter stemmer); an empty prediction scores 0."""
    return 100 * _ROUGE.score(target=reference, prediction=prediction)["rougeL"].fmeasure if prediction else 0.0


def estimate(values: Sequence[float], resamples: int, seed: int, statistic: Callable = np.mean) -> dict:
    """`{"value", "low", "high", "n"}`: the statistic of `values` and its 95% percentile bootstrap interval."""
    data = np.asarray(values, dtype=float)
    value = float(statistic(data)) if len(data) else float("nan")
    if len(data) < 2 or np.all(data == data[0]):
        return {"value": value, "low": value, "high": value, "n": len(data)}
    ci = bootstrap(
        (data,), statistic, n_resamples=resamples, confidence_level=0.95, method="percentile", random_state=seed
    ).confidence_interval
    return {"value": value, "low": float(ci.low), "high": float(ci.high), "n": len(data)}


def paired_difference(a: Sequence[float], b: Sequence[float], resamples: int, seed: int) -> dict:
    """Mean of a - b over the same rows, with its paired 95% bootstrap interval; `excludes_zero` says whether
    the interval lies on one side of 0."""
    if len(a) != len(b):
        raise ValueError(f"paired arms differ in length: {len(a)} vs {len(b)}")
    result = estimate(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), resamples, seed)
    return {**result, "excludes_zero": bool(result["low"] > 0 or result["high"] < 0)}


def ngram_set(text: str) -> frozenset:
    """The word unigrams and bigrams of `text`."""
    tokens = words(text)
    return frozenset([(w,) for w in tokens] + list(zip(tokens, tokens[1:], strict=False)))


def mean_pairwise_distance(texts: Sequence[str]) -> float:
    """Mean Jaccard distance (1 - |A & B| / |A | B|) between the word 1-2-gram sets of every pair of texts."""
    sets = [ngram_set(t) for t in texts]
    pairs = [1 - len(a & b) / len(a | b) if a | b else 0.0 for a, b in itertools.combinations(sets, 2)]
    return float(np.mean(pairs)) if pairs else 0.0


def subsample_interval(
    texts: Sequence[str], metric: Callable[[list[str]], object], size: int, resamples: int, seed: int
) -> tuple[object, list]:
    """`metric` on all texts, and its values on `resamples` seeded subsamples of `size` texts (no replacement).

    Diversity counts grow with the number of texts, so two sets are compared on subsamples of equal size;
    the spread of those values is the interval."""
    rng = np.random.default_rng(seed)
    draws = [metric([texts[i] for i in rng.choice(len(texts), size, replace=False)]) for _ in range(resamples)]
    return metric(list(texts)), draws


def interval(draws: Sequence[float]) -> dict:
    """Mean and 2.5/97.5 percentiles of subsample values, and whether that range excludes 0."""
    low, high = (float(x) for x in np.percentile(draws, [2.5, 97.5]))
    return {"value": float(np.mean(draws)), "low": low, "high": high, "excludes_zero": bool(low > 0 or high < 0)}


def unpaired_difference(a: Sequence[float], b: Sequence[float], resamples: int, seed: int) -> dict:
    """Mean of a minus mean of b for two independent samples, each resampled on its own (95% percentile)."""
    diff = float(np.mean(a) - np.mean(b))
    ci = bootstrap(
        (np.asarray(a, dtype=float), np.asarray(b, dtype=float)),
        lambda x, y, axis=-1: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        n_resamples=resamples, confidence_level=0.95, method="percentile", random_state=seed,
    ).confidence_interval  # fmt: skip
    low, high = float(ci.low), float(ci.high)
    return {"value": diff, "low": low, "high": high, "excludes_zero": bool(low > 0 or high < 0)}
