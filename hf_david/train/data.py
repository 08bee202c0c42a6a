"""Training data of the two SFT recipes, in TRL's conversational prompt-completion format.

* Instruction generator (flipped pairs): the prompt is exactly what the generation stage sends to a trained
  generator, `load_prompt(INSTRUCTION_GENERATION).messages(output=..., context=..., few_shot=False)`, and
  the completion is the instruction.
* Instruction follower: the prompt is the follower's user turn (`load_prompt(INSTRUCTION_FOLLOWING)`, the
  same turn the perplexity filter scores outputs under), the completion is the output.

Both give `{"prompt": [...], "completion": [{"role": "assistant", ...}]}`, so TRL masks the prompt and
trains on the completion only.

Reads: the seed data (`dataset_scripts.seed` loaders; Dolly rows 6200-6399 are held out for evaluation and
never trained on) and `hf-david generate --out` folders (their `train` split and `hf_david_job.json`).
Returns the train/eval datasets and a `DataSource` per dataset for the training record and model card.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from datasets import Dataset, DatasetDict, concatenate_datasets, load_from_disk

from dataset_scripts.seed import DataSource, load_columns, load_dolly, normalize, split_heldout
from hf_david.artifacts import JOB_MANIFEST
from hf_david.prompts import INSTRUCTION_FOLLOWING, INSTRUCTION_GENERATION, PromptTemplate, load_prompt
from hf_david.train.config import FollowingConfig, GeneratorConfig, RecipeConfig


def flipped_example(template: PromptTemplate, instruction: str, output: str, context: str = "") -> dict:
    """One flipped pair: the model reads the output (and its context) and writes the instruction."""
    messages = template.messages(output=output, context=context or "", few_shot=False)
    return {"prompt": messages, "completion": [{"role": "assistant", "content": instruction}]}


def following_example(template: PromptTemplate, instruction: str, output: str, input_text: str = "") -> dict:
    """One instruction-following pair: the instruction (plus input) as the user turn, the output as reply."""
    return {
        "prompt": [{"role": "user", "content": template.user_turn(instruction=instruction, input=input_text or "")}],
        "completion": [{"role": "assistant", "content": output}],
    }


def to_flipped(ds: Dataset, prompt: str = INSTRUCTION_GENERATION) -> Dataset:
    """Seed-schema rows (`instruction, input, output`) to flipped prompt-completion examples."""
    template = load_prompt(prompt)
    return ds.map(
        lambda row: flipped_example(template, row["instruction"], row["output"], row["input"]),
        remove_columns=ds.column_names,
        desc="flipping pairs",
    )


def to_following(ds: Dataset) -> Dataset:
    """Seed-schema rows to instruction-following prompt-completion examples."""
    template = load_prompt(INSTRUCTION_FOLLOWING)
    return ds.map(
        lambda row: following_example(template, row["instruction"], row["output"], row["input"]),
        remove_columns=ds.column_names,
        desc="formatting pairs",
    )


def load_generated(job_dir: str | Path) -> tuple[Dataset, dict]:
    """The `train` split of an `hf-david generate --out` folder in the seed schema, and its manifest ({} if none)."""
    job_dir = Path(job_dir)
    if not job_dir.is_dir():
        raise FileNotFoundError(f"{job_dir}: not a directory (expected an `hf-david generate --out` folder)")
    data = load_from_disk(str(job_dir))
    if not isinstance(data, DatasetDict) or "train" not in data:
        raise ValueError(f"{job_dir}: expected a DatasetDict with a 'train' split")
    manifest_path = job_dir / JOB_MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    ds = normalize(
        data["train"], instruction="instruction", output="output", input="input", source=f"hf-david:{job_dir.name}"
    )
    return ds, manifest


def mix(seed: Dataset | None, generated: Dataset | None, generated_fraction: float, rng_seed: int) -> Dataset:
    """Concatenate seed and generated rows so generated rows make up `generated_fraction` of the result.

    All rows of the side that limits the ratio are kept and the other side is subsampled (seeded), so
    no row is repeated. Fraction 0 means seed only, 1 means generated only.
    """
    if not 0.0 <= generated_fraction <= 1.0:
        raise ValueError(f"generated_fraction must be in [0, 1], got {generated_fraction}")
    n_seed = len(seed) if seed is not None else 0
    n_gen = len(generated) if generated is not None else 0
    if generated_fraction == 0.0 or n_gen == 0:
        take_seed, take_gen = n_seed, 0
    elif generated_fraction == 1.0 or n_seed == 0:
        take_seed, take_gen = 0, n_gen
    else:
        want_gen = round(n_seed * generated_fraction / (1 - generated_fraction))
        if want_gen <= n_gen:
            take_seed, take_gen = n_seed, want_gen
        else:
            take_seed, take_gen = round(n_gen * (1 - generated_fraction) / generated_fraction), n_gen
    if take_seed + take_gen == 0:
        raise ValueError(
            f"nothing to train on: {n_seed} seed rows, {n_gen} generated rows, generated_fraction={generated_fraction}"
        )
    rng = random.Random(rng_seed)
    parts = []
    for ds, n in ((seed, take_seed), (generated, take_gen)):
        if ds is not None and n:
            parts.append(ds.select(sorted(rng.sample(range(len(ds)), n))))
    return concatenate_datasets(parts).shuffle(seed=rng_seed)


def load_seed(config: RecipeConfig) -> tuple[Dataset, Dataset | None, DataSource]:
    """(train, eval, provenance) of the seed data; Dolly's held-out rows never reach the train split."""
    if config.instruction_column:
        ds = load_columns(
            config.seed_data,
            instruction=config.instruction_column,
            output=config.output_column,
            input=config.input_column,
        )
        if config.eval_rows:
            parts = ds.train_test_split(test_size=config.eval_rows, seed=config.seed)
            train, held = parts["train"], parts["test"]
        else:
            train, held = ds, None
    else:
        train, held = split_heldout(load_dolly(config.seed_data))
        held = held.select(range(min(config.eval_rows, len(held)))) if config.eval_rows and len(held) else None
    if config.max_seed_rows is not None:
        train = train.select(range(min(config.max_seed_rows, len(train))))
    name = "databricks-dolly-15k" if not config.instruction_column else Path(config.seed_data).name
    source = DataSource(name=name, source=config.seed_data, rows=len(train), license=config.seed_license)
    return train, held, source


def build_generator_data(config: GeneratorConfig) -> tuple[Dataset, Dataset | None, list[DataSource]]:
    """Flipped train and eval examples from the seed data, and its provenance."""
    train, held, source = load_seed(config)
    return to_flipped(train, config.prompt), to_flipped(held, config.prompt) if held else None, [source]


def _generated_source(job: str, ds: Dataset, manifest: dict) -> DataSource:
    corpus = (manifest.get("config") or {}).get("corpus", "unknown corpus")
    return DataSource(
        name=Path(job).name, source=f"hf-david generate ({corpus})", rows=len(ds), license="inherits the corpus licence"
    )


def build_following_data(config: FollowingConfig) -> tuple[Dataset, Dataset | None, list[DataSource]]:
    """Follower train and eval examples from the seed/generated mix, and each dataset's provenance.

    Each `DataSource` records the rows of that dataset that made it into the mix. Without seed eval rows
    (e.g. `--no_use_seed`), `eval_rows` of the mix are split off (at most a tenth of it) for evaluation.
    """
    seed, held, seed_source = load_seed(config) if config.use_seed else (None, None, None)
    loaded = [(job, *load_generated(job)) for job in config.generated]
    generated = concatenate_datasets([ds for _, ds, _ in loaded]) if loaded else None
    mixed = mix(seed, generated, config.generated_fraction, config.seed)
    counts = Counter(mixed["source"])
    sources = []
    if seed_source is not None and len(seed) and counts[seed[0]["source"]]:
        sources.append(DataSource(**{**seed_source.to_dict(), "rows": counts[seed[0]["source"]]}))
    for job, ds, manifest in loaded:
        rows = counts[ds[0]["source"]] if len(ds) else 0
        if rows:
            sources.append(DataSource(**{**_generated_source(job, ds, manifest).to_dict(), "rows": rows}))
    if held is None and config.eval_rows:
        parts = mixed.train_test_split(test_size=min(config.eval_rows, len(mixed) // 10 or 1), seed=config.seed)
        mixed, held = parts["train"], parts["test"]
    return to_following(mixed), to_following(held) if held is not None else None, sources
