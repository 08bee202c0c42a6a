"""Which licences a card declares, and which names may be linked as Hub ids.

Generated data copies its outputs from the corpus and learns from the seed data, so it inherits their
licences; the card metadata gets Hub licence ids, found from what the user declared and from the names
of well-known corpora and seed sets. Local paths never become Hub links.
"""

from __future__ import annotations

import re
from pathlib import Path

# Hub ids of model aliases hf_david resolves locally (the alias is a GGUF conversion of this model).
ALIAS_HUB_IDS = {"smollm2-135m-instruct": "HuggingFaceTB/SmolLM2-135M-Instruct"}
# Upstream licences of well-known corpora and seed sets, matched by substring of their name or path.
KNOWN_LICENSES = {
    "wikitext": "cc-by-sa-3.0",
    "wikipedia": "cc-by-sa-3.0",
    "dolly": "cc-by-sa-3.0",
    "dolma": "odc-by",
    "c4": "odc-by",
    "natural-instructions": "apache-2.0",
    "superni": "apache-2.0",
    "python reference documentation": "psf-2.0",
    "python-docs": "psf-2.0",
}
# Licences with no Hub licence id: the metadata says `other` and names them.
OTHER_LICENSES = {"psf-2.0": "https://docs.python.org/3/license.html"}
DATA_SUFFIXES = {".json", ".jsonl", ".parquet", ".txt", ".csv"}
_LICENSE_ID = re.compile(r"[a-z0-9][a-z0-9.+-]*")
_REPO_ID = re.compile(r"[\w.-]+/[\w.-]+")


def hub_id(name: str | None) -> str | None:
    """The Hub id of a model or dataset name, or None for a local path (never published)."""
    if not name:
        return None
    if name in ALIAS_HUB_IDS:
        return ALIAS_HUB_IDS[name]
    looks_like_file = Path(name).suffix in DATA_SUFFIXES
    if _REPO_ID.fullmatch(name) and not looks_like_file and not Path(name).expanduser().exists():
        return name
    return None


def license_metadata(licenses: list[str]) -> dict:
    """`license` (one id or a list) for card metadata; `other` + name + link for non-Hub licences."""
    other = [lic for lic in licenses if lic in OTHER_LICENSES]
    ids = [lic for lic in licenses if lic not in OTHER_LICENSES] + (["other"] if other else [])
    meta: dict = {"license": ids[0] if len(ids) == 1 else ids}
    if other:
        meta.update(license_name=", ".join(other), license_link=OTHER_LICENSES[other[0]])
    return meta


def infer_licenses(*names: str | None, declared: tuple[str | None, ...] = ()) -> list[str]:
    """Hub licence ids the output inherits: the declared ones, and those of known corpora and seed sets.

    A declared value that is not a licence id (e.g. "inherits the corpus licence") is left to the card's
    text; the metadata only gets ids.
    """
    found = [d.strip().lower() for d in declared if d and _LICENSE_ID.fullmatch(d.strip().lower())]
    for name in names:
        lowered = (name or "").lower()
        found += [lic for key, lic in KNOWN_LICENSES.items() if key in lowered]
    unique = list(dict.fromkeys(found))
    return unique or ["unknown"]
