"""Honest dataset and model cards, rendered from the Jinja templates in `model_cards/`.

A card says how its data or model was made (models, corpus, levels, K, seed, command line), what the
filter kept and rejected, the licences inherited from the corpus and seed data, and the limitations. The
dataset card comes with a perplexity histogram and a level breakdown (PNG, next to README.md). Every card
is sanitized before it is written: no access token and no absolute path of the user's machine.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData, ModelCard, ModelCardData

from hf_david.artifacts import JOB_MANIFEST, TRAINING_MANIFEST
from model_cards import DATASET_CARD_TEMPLATE, MODEL_CARD_TEMPLATE

EVAL_RESULTS = "eval_results.json"
PPL_HISTOGRAM = "hf_david_ppl_histogram.png"
LEVEL_CHART = "hf_david_levels.png"
LOSS_CURVE = "loss_curve.png"
DATASET_IMAGES = (PPL_HISTOGRAM, LEVEL_CHART)
TAGS = ["synthetic", "instruction-tuning", "hf-david"]
REPO_PLACEHOLDER = "<user>/<repo>"

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
LANGUAGE_NAMES = {"en": "English"}
TASK_TEXT = {
    "instruction-generator": "It is an instruction generator: given an output text, it writes the "
    "instruction that output answers (the flipped task of extract-then-generate).",
    "instruction-following": "It follows instructions: given an instruction (and an optional input), it "
    "writes the response.",
}
_LICENSE_ID = re.compile(r"[a-z0-9][a-z0-9.+-]*")

_TOKEN = re.compile(r"\b(?:hf_|api_org_)[A-Za-z0-9]{16,}\b")
_TOKEN_FLAG = re.compile(r"(--token[= ])(\S+)")
# An absolute path: `/a/b...` (two segments at least), `~/...` or `C:\...`, not inside a URL or a word.
_ABS_PATH = re.compile(
    r"(?<![\w:/.~-])(?:~/[^\s'\"`<>|)\]]+|/[^\s/'\"`<>|)\]]+(?:/[^\s/'\"`<>|)\]]*)+"
    r"|[A-Za-z]:\\[^\s'\"`<>|)\]]+)"
)


def _secrets() -> list[str]:
    """Token values the card must never show: the environment's and the one stored by `hf auth login`."""
    from huggingface_hub import get_token

    values = [os.environ.get(name) for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")]
    values.append(get_token())
    return [v for v in values if v and len(v) >= 8]


def sanitize(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove tokens and replace absolute local paths by their basename, so a card can be published."""
    for secret in (*secrets, *_secrets()):
        text = text.replace(secret, "<redacted>")
    text = _TOKEN_FLAG.sub(r"\1<redacted>", text)
    text = _TOKEN.sub("<redacted>", text)

    def basename(match: re.Match) -> str:
        path = match.group(0).rstrip("/\\")
        return re.split(r"[/\\]", path)[-1] or path

    return _ABS_PATH.sub(basename, text)


def _finish(card: DatasetCard | ModelCard) -> str:
    """The card's final text: sanitized, without the blank-line runs left by template blocks."""
    return re.sub(r"\n{3,}", "\n\n", sanitize(str(card))).rstrip() + "\n"


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{path.name} not found in {path.parent.name!r}") from err
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name} is not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} must hold a JSON object, got {type(data).__name__}")
    return data


def _display(value: Any) -> str:
    """A table cell: lists joined, absolute paths shortened, pipes escaped."""
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, float):
        value = f"{value:.4g}"
    return sanitize(str(value)).replace("|", "\\|").replace("\n", " ")


def _command(command: str | list | None) -> str:
    """The command line as one shell string (argv lists are quoted), sanitized."""
    if isinstance(command, list):
        command = shlex.join(str(c) for c in command)
    return sanitize(command or "")


def hub_id(name: str | None) -> str | None:
    """The Hub id of a model or dataset name, or None for a local path (never published)."""
    if not name:
        return None
    if name in ALIAS_HUB_IDS:
        return ALIAS_HUB_IDS[name]
    looks_like_file = Path(name).suffix in {".json", ".jsonl", ".parquet", ".txt", ".csv"}
    if re.fullmatch(r"[\w.-]+/[\w.-]+", name) and not looks_like_file and not Path(name).expanduser().exists():
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


def size_category(n: int) -> str:
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ]
    return next((label for bound, label in bounds if n < bound), "n>10M")


def _figure(width: float, height: float):
    """A matplotlib figure on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def _save_figure(fig, path: Path) -> None:
    # No "Software" metadata: the same data gives byte-identical PNGs, so a re-push changes nothing.
    fig.savefig(path, dpi=100, metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)


def _plot_ppl_histogram(kept: list[float], candidates: list[float], path: Path) -> None:
    fig, ax = _figure(6, 3.5)
    logs = [math.log10(p) for p in kept if p > 0 and math.isfinite(p)]
    all_logs = [math.log10(p) for p in candidates if p > 0 and math.isfinite(p)]
    import numpy as np

    bins = np.histogram_bin_edges(all_logs or logs, bins=30 if len(logs) > 60 else 15)
    if all_logs:
        ax.hist(all_logs, bins=bins, alpha=0.45, label="all candidates", color="tab:gray")
    ax.hist(logs, bins=bins, alpha=0.8, label="kept (lowest per output)", color="tab:blue")
    ax.set_xlabel("log10 perplexity of the output given the instruction")
    ax.set_ylabel("count")
    ax.set_title("Perplexity under the scorer")
    ax.legend()
    fig.tight_layout()
    _save_figure(fig, path)


def _plot_levels(counts: dict[str, int], path: Path) -> None:
    fig, ax = _figure(6, 3.2)
    ax.bar(list(counts), list(counts.values()), color="tab:green")
    ax.set_ylabel("kept rows")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Rows per extraction level")
    fig.tight_layout()
    _save_figure(fig, path)


def _load_splits(job_dir: Path) -> dict:
    from datasets import Dataset, DatasetDict, load_from_disk

    try:
        data = load_from_disk(str(job_dir))
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{job_dir.name!r} is not a saved dataset folder (no dataset_dict.json)") from err
    if isinstance(data, Dataset):
        data = DatasetDict({"train": data})
    if "train" not in data:
        raise ValueError(f"the dataset in {job_dir.name!r} has no 'train' split (found {sorted(data)})")
    return data


def _stage_rows(manifest: dict) -> list[list[str]]:
    """Per-stage counters of the job (rows in/out, rejected, tokens, seconds) as table cells."""
    rows = []
    for stage, stats in (manifest.get("stats") or {}).items():
        if isinstance(stats, dict):
            rejected = stats.get("rejects")
            rejected = sum(rejected.values()) if isinstance(rejected, dict) else rejected
            cells = (stats.get("rows_in"), stats.get("rows_out"), rejected, stats.get("tokens"), stats.get("seconds"))
            rows.append([_display(stage)] + ["-" if c is None else _display(c) for c in cells])
    return rows


def dataset_card_data(job_dir: Path) -> tuple[dict, Any]:
    """The manifest and the DatasetDict of a job folder (shared with `hf_david.publish.hub`)."""
    return _read_json(job_dir / JOB_MANIFEST), _load_splits(job_dir)


def _column(ds, name: str) -> list:
    return ds[name] if ds is not None and name in ds.column_names else []


def _clip(text: str, limit: int = 300) -> str:
    text = _display(text)
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _summary(values: list[float]) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return ""
    return (
        f"median {statistics.median(finite):.3g}, mean {statistics.fmean(finite):.3g}, "
        f"min {min(finite):.3g}, max {max(finite):.3g}"
    )


def write_dataset_card(job_dir: Path, repo_id: str | None = None) -> Path:
    """Write README.md, the perplexity histogram and the level chart into a generated job folder."""
    job_dir = Path(job_dir)
    manifest, data = dataset_card_data(job_dir)
    config, counts = manifest.get("config") or {}, manifest.get("counts") or {}
    train, rejects = data["train"], data.get("rejects")

    ppls = [float(p) for p in _column(train, "ppl")]
    levels = Counter(_column(train, "level")) or Counter(counts.get("levels") or {})
    configured = config.get("levels") if isinstance(config.get("levels"), list) else []
    for level in configured:  # a configured level that kept nothing is shown with 0
        levels.setdefault(level, 0)
    images = []
    if ppls:
        all_ppls = [float(p) for row in _column(train, "candidate_ppls") for p in row]
        _plot_ppl_histogram(ppls, all_ppls, job_dir / PPL_HISTOGRAM)
        images.append({"file": PPL_HISTOGRAM, "alt": "Perplexity histogram"})
    if levels:
        _plot_levels(dict(levels), job_dir / LEVEL_CHART)
        images.append({"file": LEVEL_CHART, "alt": "Rows per extraction level"})

    corpus = config.get("corpus")
    full = config.get("full") if isinstance(config.get("full"), dict) else {}
    corpus_spec = full.get("corpus") or corpus  # the raw --corpus (Hub id or path); `corpus` describes it
    licenses = infer_licenses(
        corpus,
        corpus_spec,
        config.get("generator"),
        config.get("seed_data"),
        declared=(config.get("corpus_license"), config.get("seed_license")),
    )
    language = config.get("language") or "en"
    source = hub_id(corpus_spec) if isinstance(corpus_spec, str) else None
    card_data = DatasetCardData(
        **license_metadata(licenses),
        language=[language],
        tags=list(TAGS),
        task_categories=["text-generation"],
        size_categories=[size_category(len(train))],
        source_datasets=[source] if source else None,
        pretty_name=config.get("pretty_name") or f"hf_david instructions from {_display(corpus or 'a corpus')}",
    )
    settings = {
        "generator": config.get("generator"),
        "scorer": config.get("scorer"),
        "corpus": corpus,
        "text column": config.get("text_column"),
        "levels": config.get("levels"),
        "candidates per output (K)": config.get("k"),
        "seed": config.get("seed"),
        "max passages": config.get("max_passages"),
        "hf_david version": manifest.get("hf_david_version"),
        "config hash": manifest.get("config_hash"),
    }
    reasons = counts.get("rejects_by_reason") or Counter(_column(rejects, "reason"))
    examples = [
        {
            "level": row.get("level", "?"),
            "instruction": _clip(row.get("instruction", "")),
            "output": _clip(row.get("output", "")),
        }
        for row in train.select(range(min(2, len(train))))
    ]
    total = max(1, sum(levels.values()))
    card = DatasetCard.from_template(
        card_data,
        template_path=str(DATASET_CARD_TEMPLATE),
        repo_id=repo_id or REPO_PLACEHOLDER,
        n_train=len(train),
        n_rejects=len(rejects) if rejects is not None else None,
        language_names=LANGUAGE_NAMES.get(language, language),
        license_text=", ".join(licenses),
        corpus=_display(corpus or "unknown"),
        k=config.get("k", "K"),
        settings=[(k, _display(v)) for k, v in settings.items() if v is not None],
        command=_command(manifest.get("command")),
        n_passages=counts.get("passages"),
        stages=_stage_rows(manifest),
        rejects_by_reason=sorted(((_display(k), v) for k, v in reasons.items()), key=lambda kv: -kv[1]),
        ppl_summary=_summary(ppls),
        images=images,
        levels=[(lvl, n, f"{100 * n / total:.1f}%") for lvl, n in levels.most_common()],
        examples=examples,
    )
    path = job_dir / "README.md"
    path.write_text(_finish(card), encoding="utf-8")
    return path


def _eval_rows(results: Any) -> list[tuple[str, str, str]]:
    """Flatten eval results: {bench: {metric: v}}, {metric: v} or [{benchmark, metric, value}]."""
    rows: list[tuple[str, str, str]] = []
    if isinstance(results, list):
        for r in results:
            if isinstance(r, dict) and "metric" in r and "value" in r:
                rows.append(
                    (
                        _display(r.get("benchmark", r.get("dataset", "-"))),
                        _display(r["metric"]),
                        _display(r["value"]),
                    )
                )
    elif isinstance(results, dict):
        for key, value in results.items():
            if isinstance(value, dict):
                rows += [
                    (_display(key), _display(m), _display(v)) for m, v in value.items() if isinstance(v, int | float)
                ]
            elif isinstance(value, int | float):
                rows.append(("-", _display(key), _display(value)))
    return rows


def write_model_card(model_dir: Path, repo_id: str | None = None) -> Path:
    """Write README.md for a model trained by hf_david, from hf_david_training.json (+ loss curve, evals)."""
    model_dir = Path(model_dir)
    info = _read_json(model_dir / TRAINING_MANIFEST)
    base_model = info.get("base_model")
    datasets = [d for d in info.get("datasets") or [] if isinstance(d, dict)]
    licenses = infer_licenses(
        *(d.get("name") for d in datasets),
        *(d.get("source") for d in datasets),
        declared=tuple(d.get("license") for d in datasets),
    )
    language = info.get("language") or "en"
    dataset_ids = [i for i in (hub_id(d.get("name")) or hub_id(d.get("source")) for d in datasets) if i]
    card_data = ModelCardData(
        base_model=hub_id(base_model),
        datasets=dataset_ids or None,
        **license_metadata(licenses),
        language=[language],
        tags=[*TAGS, "trl", "sft"],
        pipeline_tag="text-generation",
        library_name="transformers",
    )
    loss_curve = (model_dir / LOSS_CURVE).is_file()  # written by the training recipe
    eval_path = model_dir / EVAL_RESULTS
    eval_results = _eval_rows(json.loads(eval_path.read_text(encoding="utf-8"))) if eval_path.is_file() else []
    losses = [(k, _display(info[k])) for k in ("train_loss", "eval_loss") if info.get(k) is not None]
    base_text = f"`{hub_id(base_model) or _display(base_model or 'an unknown base model')}`"
    card = ModelCard.from_template(
        card_data,
        template_path=str(MODEL_CARD_TEMPLATE),
        repo_id=repo_id or REPO_PLACEHOLDER,
        model_name=(repo_id or model_dir.name).split("/")[-1],
        base_model_text=base_text,
        task_text=TASK_TEXT.get(info.get("task") or "", ""),
        datasets=[{k: _display(d.get(k, "-")) for k in ("name", "source", "rows", "license")} for d in datasets],
        hyperparameters=sorted((k, _display(v)) for k, v in (info.get("hyperparameters") or {}).items()),
        losses=losses,
        loss_curve=LOSS_CURVE if loss_curve else None,
        command=_command(info.get("command")),
        eval_results=eval_results,
        language_names=LANGUAGE_NAMES.get(language, language),
        license_text=", ".join(licenses),
    )
    path = model_dir / "README.md"
    path.write_text(_finish(card), encoding="utf-8")
    return path
