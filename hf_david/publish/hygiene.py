"""The dataset card's hygiene sections: Diversity, Grounding, Decontamination, Duplicates and Language.

Reads the `train` and `rejects` splits and the job manifest of a generated dataset; draws the section
charts into the card's folder and returns the values the template shows (`hygiene_sections`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hf_david.publish.diversity import diversity
from hf_david.publish.plots import plot_bars, plot_lengths
from hf_david.publish.tables import cell
from hf_david.stages.candidates import RESTATEMENT_SHARE
from hf_david.stages.decontaminate import BUILTIN
from hf_david.stages.rejects import Reason

FIRST_WORDS_CHART = "hf_david_first_words.png"
LENGTHS_CHART = "hf_david_instruction_lengths.png"
GROUNDING_CHART = "hf_david_unsupported_terms.png"
LANGUAGE_CHART = "hf_david_languages.png"
LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese"}


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code) if code else "unknown (not detected)"


def _column(ds, name: str) -> list:
    return ds[name] if ds is not None and name in ds.column_names else []


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "-"


def _diversity(train, dest: Path) -> tuple[dict, list[dict]]:
    numbers = diversity(_column(train, "instruction"))
    if not numbers["instructions"]:
        return numbers, []
    plot_bars(numbers["top_first_words"], dest / FIRST_WORDS_CHART, "Top first words of the instructions", "rows")
    plot_lengths(numbers["lengths"], dest / LENGTHS_CHART)
    numbers["top_first_words"] = [(cell(word), count) for word, count in numbers["top_first_words"]]
    images = [{"file": FIRST_WORDS_CHART, "alt": "Top first words"}, {"file": LENGTHS_CHART, "alt": "Lengths"}]
    return numbers, images


def _grounding(train, reasons: Counter, full: dict, dest: Path) -> tuple[dict, list[dict]]:
    terms = _column(train, "unsupported_terms")
    if not terms or full.get("grounding") is False:
        return {}, []
    by_count = Counter(min(len(t), 5) for t in terms)
    bars = [(f"{k}+" if k == 5 else str(k), by_count.get(k, 0)) for k in range(6) if k <= max(by_count)]
    plot_bars(bars, dest / GROUNDING_CHART, "Kept rows by number of unsupported terms", "rows")
    flagged = sum(1 for t in terms if t)
    top = Counter(term for t in terms for term in dict.fromkeys(t)).most_common(10)
    values = {
        "flagged": flagged,
        "share": _share(flagged, len(terms)),
        "gate": bool(full.get("grounding_gate")),
        "gated": reasons.get(Reason.UNSUPPORTED_TERMS, 0),
        "top_terms": [(cell(term), n) for term, n in top],
    }
    return values, [{"file": GROUNDING_CHART, "alt": "Rows by number of unsupported terms"}]


def _decontamination(rejects, full: dict) -> dict:
    if not full.get("decontaminate"):  # switched off, or a manifest from before the check existed
        return {}
    removed = Counter(
        where.split(":", 1)[0]
        for reason, where in zip(_column(rejects, "reason"), _column(rejects, "collides_with"), strict=True)
        if reason == Reason.CONTAMINATED
    )
    sources = [*BUILTIN, *(str(s) for s in full.get("decontaminate_against") or [])]
    return {
        "ngram": full.get("decontaminate_ngram", 13),
        "sources": cell(sources),
        "removed": [(cell(name), removed.get(name, 0)) for name in dict.fromkeys([*BUILTIN, *removed])],
    }


def _languages(train, reasons: Counter, full: dict, dest: Path) -> tuple[dict, list[dict]]:
    counts = Counter(_column(train, "language"))
    if not counts:
        return {}, []
    total = sum(counts.values())
    rows = [(language_name(code), cell(code or "-"), n, _share(n, total)) for code, n in counts.most_common()]
    plot_bars([(name, n) for name, _, n, _ in rows], dest / LANGUAGE_CHART, "Kept rows by passage language", "rows")
    values = {
        "rows": rows,
        "required": full.get("language"),
        "detected": full.get("detect_language", True),
        "mismatched": reasons.get(Reason.LANGUAGE_MISMATCH, 0),
        "restatement_share": f"{RESTATEMENT_SHARE:.0%}",
    }
    return values, [{"file": LANGUAGE_CHART, "alt": "Rows by language"}]


def hygiene_sections(train, rejects, manifest: dict, dest: Path) -> dict:
    """The template values of the hygiene sections (each empty when its check did not run), charts drawn."""
    full = (manifest.get("config") or {}).get("full") or {}
    reasons = Counter(_column(rejects, "reason"))
    diversity_values, diversity_images = _diversity(train, dest)
    grounding, grounding_images = _grounding(train, reasons, full, dest)
    languages, language_images = _languages(train, reasons, full, dest)
    return {
        "diversity": diversity_values,
        "diversity_images": diversity_images,
        "grounding": grounding,
        "grounding_images": grounding_images,
        "decontamination": _decontamination(rejects, full),
        "duplicates": {
            "exact": reasons.get(Reason.EXACT_DUPLICATE, 0),
            "near": reasons.get(Reason.NEAR_DUPLICATE, 0),
            "threshold": full.get("dedup_threshold"),
            "shingle": full.get("dedup_shingle"),
            "enabled": full.get("dedup", True) is not False and "dedup_threshold" in full,
        },
        "languages": languages,
        "language_images": language_images,
    }
