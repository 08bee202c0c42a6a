"""How diverse a list of instructions is: the numbers of the dataset card's Diversity section.

One function, `diversity(instructions)`, so that every dataset card and the replication experiments
compute the same numbers the same way. Words are `\\w+` runs of the case-folded text.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter

QUESTION_MARKS = ("?", "\uff1f", "\u061f", "\u037e")  # Latin, CJK, Arabic, Greek
TOP_FIRST_WORDS = 20


def words(text: str) -> list[str]:
    """The case-folded `\\w+` words of `text`: what every diversity number counts."""
    return re.findall(r"\w+", text.casefold())


def _distinct(sequences: list[list[str]], n: int) -> float:
    grams = [tuple(words[i : i + n]) for words in sequences for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def diversity(instructions: list[str]) -> dict:
    """Diversity numbers of `instructions`.

    - `distinct_1`, `distinct_2`: distinct unigrams (bigrams) over all unigrams (bigrams), pooled over the
      instructions (Li et al., 2016);
    - `first_words`: how many different first words open them, and `top_first_words`: the 20 most frequent
      as [word, count] (the first word is the root verb of an imperative, or the question word);
    - `question_share`: the share that ends with a question mark (of any script);
    - `lengths`: the length of each instruction in words, and `length_summary`: its min, quartiles, mean
      and max.
    """
    texts = [t.strip() for t in instructions if isinstance(t, str) and t.strip()]
    tokens = [words(t) for t in texts]
    firsts = Counter(words[0] for words in tokens if words)
    lengths = [len(words) for words in tokens]
    quartiles = statistics.quantiles(lengths, n=4, method="inclusive") if len(lengths) > 1 else lengths * 3
    return {
        "instructions": len(texts),
        "distinct_1": round(_distinct(tokens, 1), 4),
        "distinct_2": round(_distinct(tokens, 2), 4),
        "first_words": len(firsts),
        "top_first_words": [[word, count] for word, count in firsts.most_common(TOP_FIRST_WORDS)],
        "question_share": round(sum(t.endswith(QUESTION_MARKS) for t in texts) / len(texts), 4) if texts else 0.0,
        "lengths": lengths,
        "length_summary": {
            "min": min(lengths, default=0),
            "q1": quartiles[0] if quartiles else 0,
            "median": quartiles[1] if quartiles else 0,
            "q3": quartiles[2] if quartiles else 0,
            "mean": round(statistics.fmean(lengths), 2) if lengths else 0,
            "max": max(lengths, default=0),
        },
    }
