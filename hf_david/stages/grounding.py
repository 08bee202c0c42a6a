"""Grounding flags: the terms of an instruction that neither its output nor its source passage contains.

The paper leaves hallucination open; our rows keep their source, so we can check each instruction
against it. Reads `instruction`, `output`, `input`, `context` and `language`; writes `unsupported_terms`
(a list, in the instruction's order, empty for a grounded row). With `grounding_gate`, a row with any such
term is marked `unsupported_terms`. The terms:
- numbers, versions and dates (`2.10`, `1990`, `3rd`): supported only if the source holds them verbatim;
- code names and acronyms (`os.path`, `snake_case`, `CamelCase`, `HTTP`): supported if the source holds
  them, ignoring case;
- rare words (English rows), capitalised or not: a word of 4+ letters, not a stopword, that the model's
  tokenizer splits into more than one piece (its BPE vocabulary holds common words and names whole, so
  "Python" in a row from Python's docs is not flagged, "Ellipticity" is): supported if the source holds
  it ignoring case, or a word that starts with its Snowball stem (nltk).
The flag's precision, measured on hand-labelled rows, is in docs/hygiene.md.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from transformers.hf_argparser import HfArg

from hf_david.models import load_tokenizer
from hf_david.stages.base import ModelSettings, Stage, live_rows, n_rows, with_rejects
from hf_david.stages.rejects import Reason

SOURCE_COLUMNS = ("output", "input", "context")
_NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)*(?:st|nd|rd|th|s)?")
_TOKEN = re.compile(r"\d+(?:[.,:/-]\d+)*(?:st|nd|rd|th|s)?|[^\W\d][\w.]*\w|[^\W\d]")
_IDENTIFIER = re.compile(r".*(?:_|\.\w|[a-z][A-Z]).*")
SNOWBALL = {"ar": "arabic", "da": "danish", "de": "german", "en": "english", "es": "spanish", "fi": "finnish",
            "fr": "french", "hu": "hungarian", "it": "italian", "nl": "dutch", "no": "norwegian", "pt": "portuguese",
            "ro": "romanian", "ru": "russian", "sv": "swedish"}  # fmt: skip


@dataclass
class GroundingConfig(ModelSettings):
    """Grounding settings: list the unsupported terms of each row, and optionally reject such rows."""

    grounding: bool = HfArg(default=True, help="list each instruction's terms absent from its output and passage")
    grounding_gate: bool = HfArg(default=False, help="reject rows with unsupported terms (reason unsupported_terms)")


@functools.cache
def _stemmer(language: str):
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer(SNOWBALL[language]) if language in SNOWBALL else None


@functools.cache
def _stopwords(language: str) -> frozenset[str]:
    import yake

    return frozenset(yake.KeywordExtractor(lan=language or "en").stopword_set)


def _stem(word: str, language: str) -> str:
    stemmer = _stemmer(language)
    return stemmer.stem(word) if stemmer else word


class Grounding(Stage):
    """Rows in; `unsupported_terms` out (and, with the gate, rows that have any marked)."""

    name = "grounding"
    config_class = GroundingConfig

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        if "instruction" not in batch:
            raise KeyError(f"column 'instruction' not found; columns are {sorted(batch)}")
        n = n_rows(batch)
        languages = batch.get("language") or [""] * n
        terms: list[list[str]] = [[] for _ in range(n)]
        rejects = {}
        for i in live_rows(batch):
            source = " ".join(batch[c][i] for c in SOURCE_COLUMNS if c in batch and isinstance(batch[c][i], str))
            terms[i] = self.unsupported(str(batch["instruction"][i]), source, languages[i] or "en")
            if terms[i] and self.config.grounding_gate:
                rejects[i] = (Reason.UNSUPPORTED_TERMS, f"not in the output or its passage: {', '.join(terms[i])}")
        return with_rejects({**batch, "unsupported_terms": terms}, self.name, rejects)

    def unsupported(self, instruction: str, source: str, language: str) -> list[str]:
        """The terms of `instruction` (numbers, names, rare words) that `source` does not hold."""
        folded = source.casefold()
        numbers = set(_NUMBER.findall(source))
        stems = {_stem(w, language) for w in re.findall(r"\w+", folded)}
        found = []
        for match in _TOKEN.finditer(instruction):
            token = match.group().rstrip(".")
            if token[0].isdigit():
                supported = token in numbers or token.rstrip("sthrnd") in numbers
            elif _IDENTIFIER.fullmatch(token) or (len(token) > 1 and token.isupper()):
                supported = token.casefold() in folded
            elif self._is_rare(token, language):
                stem = _stem(token.casefold(), language)
                supported = token.casefold() in folded or stem in stems or any(s.startswith(stem) for s in stems)
            else:
                continue
            if not supported and token not in found:
                found.append(token)
        return found

    def _is_rare(self, token: str, language: str) -> bool:
        """An English word of 4+ letters, not a stopword, that the model's tokenizer does not hold whole."""
        if language != "en" or len(token) < 4 or not token.isalpha() or token.casefold() in _stopwords(language):
            return False
        tokenizer = load_tokenizer(self.config.model, self.config.revision)
        return len(tokenizer(" " + token.lower(), add_special_tokens=False).input_ids) > 1
