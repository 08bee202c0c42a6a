"""Honest dataset and model cards, rendered from the Jinja templates in `model_cards/`.

A card says how its data or model was made (models, corpus, levels, K, seed, command line), what the
filter kept and rejected, the columns, the licences inherited from the corpus and seed data, and the
limitations. The dataset card comes with a perplexity histogram and a level chart (PNG, beside README.md).
Cards are written into a `dest` folder (by default the folder they describe), and every card is
sanitized first: no access token and no absolute path of the user's machine.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData, ModelCard, ModelCardData

from hf_david.artifacts import (
    FOLLOWING_TASK,
    GENERATOR_TASK,
    JOB_MANIFEST,
    LOSS_CURVE,
    REJECT_COLUMNS,
    TRAIN_COLUMNS,
    TRAINING_MANIFEST,
)
from hf_david.publish.hygiene import hygiene_sections, language_name
from hf_david.publish.licenses import hub_id, infer_licenses, license_metadata
from hf_david.publish.plots import plot_levels, plot_ppl_histogram
from hf_david.publish.sanitize import sanitize
from hf_david.publish.tables import cell, clip, command_text, eval_rows, ifd_rows, size_category, stage_rows, summary
from model_cards import DATASET_CARD_TEMPLATE, MODEL_CARD_TEMPLATE

README = "README.md"
EVAL_RESULTS = "eval_results.json"
PPL_HISTOGRAM = "hf_david_ppl_histogram.png"
LEVEL_CHART = "hf_david_levels.png"
DATASET_IMAGES = (PPL_HISTOGRAM, LEVEL_CHART)
TAGS = ["synthetic", "instruction-tuning", "hf-david"]
REPO_PLACEHOLDER = "<user>/<repo>"
TASK_TEXT = {
    GENERATOR_TASK: "It is an instruction generator: given an output text, it writes the "
    "instruction that output answers (the flipped task of extract-then-generate).",
    FOLLOWING_TASK: "It follows instructions: given an instruction (and an optional input), it writes the response.",
}
# What each column of a generated dataset holds (`hf_david.artifacts` names them); the card lists them.
# `{k}` is filled with the number of candidates per output.
COLUMN_DOCS = {
    "instruction": "the kept instruction, written by the generator",
    "input": "the passage the instruction refers to (generated with `--use_context`), else empty",
    "output": "the extracted segment of the corpus",
    "context": "its source passage",
    "level": "the extraction level (`passage`, `keywords`, `sentence` or `fragment`)",
    "source_id": "the id of the source passage",
    "candidates": "the instructions sampled for the output ({k} per output) that survived cleaning",
    "candidate_ppls": "their perplexities",
    "ppl": "the kept instruction's perplexity",
    "ifd": "instruction-following difficulty: `ppl` / the output's perplexity without instruction (< 1: it helps)",
    "language": "the language of the source passage (ISO 639-1, detected by py3langid)",
    "unsupported_terms": "numbers, names and rare words of the instruction absent from the output and its passage",
    "collides_with": "for a duplicate, the kept row (`source_id/level`); for contamination, `benchmark:item`",
    "stage": "the stage that rejected the row",
    "reason": "why, as a stable snake_case code (e.g. `passage_too_long`, `no_usable_candidate`)",
    "detail": "free text about this row's rejection",
    "text": "the rejected text",
}


def column_docs(columns: tuple[str, ...], k: Any = "K") -> list[tuple[str, str]]:
    """(column, description) pairs for a card; a column without a description is an error."""
    missing = [c for c in columns if c not in COLUMN_DOCS]
    if missing:
        raise KeyError(f"no description in cards.COLUMN_DOCS for column(s) {missing}")
    return [(c, COLUMN_DOCS[c].format(k=k)) for c in columns]


def _finish(card: DatasetCard | ModelCard) -> str:
    """The card's final text: sanitized, without the blank-line runs left by template blocks."""
    return re.sub(r"\n{3,}", "\n\n", sanitize(str(card))).rstrip() + "\n"


def _read_json(path: Path) -> dict:
    """A manifest (JSON object), with errors that name the file and not the user's full path."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{path.name} not found in {path.parent.name!r}") from err
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name} is not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} must hold a JSON object, got {type(data).__name__}")
    return data


def _load_splits(job_dir: Path) -> dict:
    """The saved DatasetDict of a job folder (a lone Dataset counts as `train`)."""
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


def dataset_card_data(job_dir: Path) -> tuple[dict, Any]:
    """The manifest and the DatasetDict of a job folder (shared with `hf_david.publish.hub`)."""
    return _read_json(Path(job_dir) / JOB_MANIFEST), _load_splits(Path(job_dir))


def _column(ds, name: str) -> list:
    return ds[name] if ds is not None and name in ds.column_names else []


def _dataset_images(train, levels: Counter, dest: Path) -> list[dict]:
    """Draw the perplexity histogram and the level chart into `dest`; their (file, alt) for the card."""
    images = []
    ppls = [float(p) for p in _column(train, "ppl")]
    if ppls:
        all_ppls = [float(p) for row in _column(train, "candidate_ppls") for p in row]
        plot_ppl_histogram(ppls, all_ppls, dest / PPL_HISTOGRAM)
        images.append({"file": PPL_HISTOGRAM, "alt": "Perplexity histogram"})
    if levels:
        plot_levels(dict(levels), dest / LEVEL_CHART)
        images.append({"file": LEVEL_CHART, "alt": "Rows per extraction level"})
    return images


def _dataset_metadata(manifest: dict, n_rows: int, languages: list[str]) -> tuple[DatasetCardData, list[str]]:
    """The card's YAML metadata (licences inherited from corpus and seed data) and the licence ids."""
    config = manifest.get("config") or {}
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
    source = hub_id(corpus_spec) if isinstance(corpus_spec, str) else None
    card_data = DatasetCardData(
        **license_metadata(licenses),
        language=languages or [config.get("language") or "en"],
        tags=list(TAGS),
        task_categories=["text-generation"],
        size_categories=[size_category(n_rows)],
        source_datasets=[source] if source else None,
        pretty_name=config.get("pretty_name") or f"hf_david instructions from {cell(corpus or 'a corpus')}",
    )
    return card_data, licenses


def _settings(manifest: dict) -> list[tuple[str, str]]:
    config = manifest.get("config") or {}
    settings = {
        "generator": config.get("generator"),
        "scorer": config.get("scorer"),
        "engine, device, precision": _engine(config),
        "corpus": config.get("corpus"),
        "text column": config.get("text_column"),
        "levels": config.get("levels"),
        "candidates per output (K)": config.get("k"),
        "seed": config.get("seed"),
        "max passages": config.get("max_passages"),
        "hf_david version": manifest.get("hf_david_version"),
        "config hash": manifest.get("config_hash"),
    }
    return [(k, cell(v)) for k, v in settings.items() if v is not None]


def _engine(config: dict) -> str | None:
    """What ran the models, as the job config recorded it (`engine`, `device`, `dtype`)."""
    full = config.get("full") or {}
    parts = [full.get(key) for key in ("engine", "device", "dtype")]
    return ", ".join(map(str, parts)) if all(parts) else None


def _level_counts(train, manifest: dict) -> Counter:
    """Kept rows per level; a configured level that kept nothing is shown with 0."""
    config, counts = manifest.get("config") or {}, manifest.get("counts") or {}
    levels = Counter(_column(train, "level")) or Counter(counts.get("levels") or {})
    for level in config.get("levels") if isinstance(config.get("levels"), list) else []:
        levels.setdefault(level, 0)
    return levels


def write_dataset_card(job_dir: Path, repo_id: str | None = None, dest: Path | None = None) -> Path:
    """Render the card of a generated job folder: README.md plus its two charts, written into `dest`
    (default: the job folder). Reads the job manifest and the saved DatasetDict; writes nothing else."""
    job_dir = Path(job_dir)
    dest = Path(dest) if dest is not None else job_dir
    manifest, data = dataset_card_data(job_dir)
    config, counts = manifest.get("config") or {}, manifest.get("counts") or {}
    train, rejects = data["train"], data.get("rejects")
    dest.mkdir(parents=True, exist_ok=True)
    levels = _level_counts(train, manifest)
    languages = [code for code, _ in Counter(c for c in _column(train, "language") if c).most_common()]
    card_data, licenses = _dataset_metadata(manifest, len(train), languages)
    reasons = counts.get("rejects_by_reason") or Counter(_column(rejects, "reason"))
    examples = [
        {
            "level": row.get("level", "?"),
            "instruction": clip(row.get("instruction", "")),
            "output": clip(row.get("output", "")),
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
        language_names=", ".join(language_name(code) for code in card_data.language),
        license_text=", ".join(licenses),
        corpus=cell(config.get("corpus") or "unknown"),
        k=config.get("k", "K"),
        settings=_settings(manifest),
        command=command_text(manifest.get("command")),
        n_passages=counts.get("passages"),
        stages=stage_rows(manifest),
        rejects_by_reason=sorted(((cell(k), v) for k, v in reasons.items()), key=lambda kv: -kv[1]),
        ppl_summary=summary([float(p) for p in _column(train, "ppl")]),
        ifd=ifd_rows(_column(train, "level"), _column(train, "ifd")),
        images=_dataset_images(train, levels, dest),
        levels=[(lvl, n, f"{100 * n / total:.1f}%") for lvl, n in levels.most_common()],
        examples=examples,
        train_columns=column_docs(TRAIN_COLUMNS, k=config.get("k", "K")),
        reject_columns=column_docs(REJECT_COLUMNS),
        **hygiene_sections(train, rejects, manifest, dest),
    )
    path = dest / README
    path.write_text(_finish(card), encoding="utf-8")
    return path


def _model_metadata(info: dict) -> tuple[ModelCardData, list[str], list[dict]]:
    """The card's YAML metadata (base model, Hub datasets, inherited licences), licence ids, datasets."""
    datasets = [d for d in info.get("datasets") or [] if isinstance(d, dict)]
    licenses = infer_licenses(
        *(d.get("name") for d in datasets),
        *(d.get("source") for d in datasets),
        declared=tuple(d.get("license") for d in datasets),
    )
    dataset_ids = [i for i in (hub_id(d.get("name")) or hub_id(d.get("source")) for d in datasets) if i]
    card_data = ModelCardData(
        base_model=hub_id(info.get("base_model")),
        datasets=dataset_ids or None,
        **license_metadata(licenses),
        language=[info.get("language") or "en"],
        tags=[*TAGS, "trl", "sft"],
        pipeline_tag="text-generation",
        library_name="transformers",
    )
    return card_data, licenses, datasets


def _hyperparameters(info: dict) -> list[tuple[str, str]]:
    """(option, value) rows of a training record: those it lists as shown (options set away from the
    library's defaults), else all of them."""
    values = info.get("hyperparameters") or {}
    shown = info.get("hyperparameters_shown") or sorted(values)
    return [(k, cell(values[k])) for k in sorted(shown) if k in values]


def write_model_card(model_dir: Path, repo_id: str | None = None, dest: Path | None = None) -> Path:
    """Render README.md for a model trained by hf_david into `dest` (default: the model folder), from
    hf_david_training.json, the loss curve and eval_results.json beside it; the loss curve is copied to
    `dest` when it is another folder, so the card's image link works there too."""
    model_dir = Path(model_dir)
    dest = Path(dest) if dest is not None else model_dir
    info = _read_json(model_dir / TRAINING_MANIFEST)
    card_data, licenses, datasets = _model_metadata(info)
    dest.mkdir(parents=True, exist_ok=True)
    loss_curve = (model_dir / LOSS_CURVE).is_file()  # written by the training recipe
    if loss_curve and dest.resolve() != model_dir.resolve():
        shutil.copyfile(model_dir / LOSS_CURVE, dest / LOSS_CURVE)
    eval_path = model_dir / EVAL_RESULTS
    eval_results = eval_rows(json.loads(eval_path.read_text(encoding="utf-8"))) if eval_path.is_file() else []
    base_model = info.get("base_model")
    base_text = f"`{hub_id(base_model) or cell(base_model or 'an unknown base model')}`"
    language = card_data.language[0]
    card = ModelCard.from_template(
        card_data,
        template_path=str(MODEL_CARD_TEMPLATE),
        repo_id=repo_id or REPO_PLACEHOLDER,
        model_name=(repo_id or model_dir.name).split("/")[-1],
        base_model_text=base_text,
        task_text=TASK_TEXT.get(info.get("task") or "", ""),
        datasets=[{k: cell(d.get(k, "-")) for k in ("name", "source", "rows", "license")} for d in datasets],
        hyperparameters=_hyperparameters(info),
        losses=[(k, cell(info[k])) for k in ("train_loss", "eval_loss") if info.get(k) is not None],
        loss_curve=LOSS_CURVE if loss_curve else None,
        command=command_text(info.get("command")),
        eval_results=eval_results,
        language_names=language_name(language),
        license_text=", ".join(licenses),
    )
    path = dest / README
    path.write_text(_finish(card), encoding="utf-8")
    return path
