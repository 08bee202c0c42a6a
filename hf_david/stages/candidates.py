"""Cleaning of sampled instructions: keep what reads as an instruction for this output, drop the rest.

Reads one raw completion, its output and the few-shot demonstrations; returns the cleaned instruction or
None. Small instruct models often copy a demonstration, restate the output, or comment on it; these are
dropped here so the perplexity filter only compares real candidates.
"""

from __future__ import annotations

import re

_PREFIX = re.compile(r"^(?:#+\s*)?(?:instruction|question|task)\s*:\s*", re.IGNORECASE)
_META = re.compile(
    r"^(?:(?:this|the|that) (?:response|instruction|answer|passage|text|sentence|question)\b|i'?m sorry|"
    r"the correct answer|here is|sure\b)",
    re.IGNORECASE,
)
# How instructions open (Dolly, SuperNI): a question word or an imperative verb. Declarative candidates
# ("In Python, X is Y.") are restatements of the output, not instructions, unless they end with "?".
_OPENERS = frozenset(
    (
        "what how why who whom whose when where which is are was were do does did can could should would will "
        "list name describe explain write give summarize summarise tell provide compare identify extract find "
        "define classify rewrite translate create generate suggest show make please answer state outline "
        "according based using given brainstorm categorize choose discuss imagine"
    ).split()
)
# Question marks of Latin, CJK, Arabic and Greek script; the language-neutral shape check accepts them.
_QUESTION_MARKS = ("?", "\uff1f", "\u061f", "\u037e")
RESTATEMENT_SHARE = 0.75  # language-neutral check: a candidate with more of its words in the output restates it
_STOP = re.compile(r"\n\s*\n|<\|im_end\|>|<\|im_start\|>|\n(?:Response|Passage|Instruction)\s*:", re.IGNORECASE)


def _ngrams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _shaped(text: str, output: str, language: str) -> bool:
    """Whether `text` reads as an instruction rather than a restatement of `output`.

    English (and "", a row whose language was not detected): a question mark, or a question word or imperative
    verb first. Other languages, where we know no opener list: a question mark of any script, or at most
    `RESTATEMENT_SHARE` of its words occurring in the output (a restatement copies the output's words; a
    task names them and adds its own).
    """
    if language in ("en", ""):
        return text.endswith("?") or text.split()[0].lower().strip(",:") in _OPENERS
    if text.endswith(_QUESTION_MARKS):
        return True
    words, known = re.findall(r"\w+", text.casefold()), set(re.findall(r"\w+", output.casefold()))
    return sum(w in known for w in words) <= RESTATEMENT_SHARE * len(words)


def clean_candidate(
    text: str, output: str, demos: tuple[str, ...] = (), shape_check: bool = True, language: str = "en"
) -> str | None:
    """Strip, cut at the first blank line or end marker, and drop empty or degenerate candidates.

    Degenerate: fewer than 2 words, not shaped like an instruction (with `shape_check`, by `_shaped` for the
    row's `language`), a copy of (or contained in) the output,
    a repetition loop, commentary about the response rather than an instruction, or text lifted from the
    few-shot demonstrations.
    """
    text = _STOP.split(text, maxsplit=1)[0].strip().strip('"').strip()
    text = _PREFIX.sub("", text).strip()
    words = text.split()
    if len(words) < 2 or len(text) > 400 or _META.match(text):
        return None
    if shape_check and not _shaped(text, output, language):
        return None
    if text.lower() in output.lower() or output.lower() in text.lower():
        return None
    if len(words) >= 8 and len(set(words)) < 0.4 * len(words):
        return None
    grams = _ngrams(text)
    if any(text.lower() == d.lower() or grams & _ngrams(d) for d in demos):
        return None
    return text
