"""E3 (downstream): fine-tune the follower three ways with `hf-david train` and evaluate each.

Arms, all LoRA on the same base model with the same hyperparameters and seed:
- `seed`: `seed_rows` Dolly rows;
- `seed + generated`: the same seed rows plus every row of E2's all-levels job (min-PPL instructions);
- `seed + generated (random)`: the same, but each generated row keeps a seeded random candidate instead.

Each model is evaluated on the packaged SuperNI subset (ROUGE-L, exact match; official scorer) and on the
Dolly held-out long-form rows (METEOR), and the differences between arms are bootstrapped paired over
instances. Training and evaluation runs resume; finished ones are skipped.
Writes OUT/e3/: one model folder per arm (with `eval-superni/`, `eval-dolly-heldout/`), `generated-random/`,
`rows.jsonl` (per instance: each arm's prediction and scores), `results.json` and plots.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from datasets import DatasetDict, load_from_disk

from hf_david.artifacts import TRAINING_MANIFEST
from hf_david.evaluation import EvalConfig, evaluate_model
from hf_david.publish.plots import plot_estimates
from hf_david.replicate.common import write_jsonl
from hf_david.replicate.config import ReplicateConfig
from hf_david.replicate.extraction import ALL_LEVELS_JOB
from hf_david.replicate.stats import estimate, paired_difference
from hf_david.train import FollowingConfig, train

FOLDERS = {"seed": "seed", "seed + generated": "seed-generated", "seed + generated (random)": "seed-generated-random"}
ARMS = tuple(FOLDERS)
METRICS = {"superni": ("rougeL", "exact_match"), "dolly-heldout": ("meteor",)}
TRAINING_KEYS = ("train_rows", "global_step", "train_loss_mean", "wall_seconds")
COMPARISONS = (("seed + generated", "seed"), ("seed + generated", "seed + generated (random)"))


def random_selection(job: Path, out: Path, seed: int) -> Path:
    """A copy of the job's `train` split in which each row's instruction is a seeded random candidate."""
    if not out.is_dir():
        train = load_from_disk(str(job))["train"]

        def pick(row: dict) -> dict:
            rng = random.Random(f"{seed}:{row['source_id']}:{row['level']}")
            return {"instruction": rng.choice(row["candidates"])}

        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        DatasetDict(train=train.map(pick, desc="random candidates")).save_to_disk(str(tmp))
        tmp.replace(out)
    return out


def train_arm(config: ReplicateConfig, folder: Path, generated: Path | None, generated_rows: int) -> dict:
    """Train (or resume, or skip when done) one arm's follower; its training manifest."""
    fraction = generated_rows / (config.seed_rows + generated_rows) if generated else 0.0
    recipe = FollowingConfig(
        output_dir=str(folder), base_model=config.model, seed_data=config.seed_data,
        max_seed_rows=config.seed_rows, eval_rows=0, generated=[str(generated)] if generated else [],
        generated_fraction=fraction, lora=True, lora_layers=config.lora_layers, precision="bf16",
        max_length=config.train_max_length, num_train_epochs=1, per_device_train_batch_size=8,
        learning_rate=config.learning_rate, warmup_steps=5, save_steps=20, seed=config.seed,
    )  # fmt: skip
    if not (folder / TRAINING_MANIFEST).is_file():
        recipe.resume = any(recipe.checkpoint_dir.glob("checkpoint-*"))
        train(recipe, command=f"hf-david replicate (E3 arm {folder.name})")
    return json.loads((folder / TRAINING_MANIFEST).read_text())


def evaluate_arm(config: ReplicateConfig, folder: Path, benchmark: str) -> list[dict]:
    """The arm's per-instance predictions on `benchmark` (evaluated once, then read back)."""
    out = folder / f"eval-{benchmark}"
    if not (out / "metrics.json").is_file():
        instances = config.superni_instances if benchmark == "superni" else config.dolly_instances
        settings = EvalConfig(
            model=str(folder), benchmark=benchmark, max_instances=instances, max_new_tokens=config.eval_max_new_tokens
        )
        evaluate_model(settings, out, command=f"hf-david replicate (E3 {benchmark})")
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]


def downstream_experiment(config: ReplicateConfig, out: Path) -> dict:
    """E3: three followers, two benchmarks, paired differences between arms."""
    job = out.parent / "e2" / ALL_LEVELS_JOB
    if not job.is_dir():
        raise ValueError(f"E3 trains on E2's generated data ({job}): run e2 first")
    n_generated = len(load_from_disk(str(job))["train"])
    sources = {"seed": None, "seed + generated": job}
    sources["seed + generated (random)"] = random_selection(job, out / "generated-random", config.seed)
    folders = {arm: out / name for arm, name in FOLDERS.items()}
    manifests = {arm: train_arm(config, folders[arm], sources[arm], n_generated) for arm in ARMS}
    predictions = {(arm, b): evaluate_arm(config, folders[arm], b) for arm in ARMS for b in METRICS}
    metrics = [(b, m) for b, ms in METRICS.items() for m in ms]
    scores = {(arm, b, m): [100 * p[m] for p in predictions[(arm, b)]] for arm in ARMS for b, m in metrics}
    est = {"resamples": config.resamples, "seed": config.seed}
    results = {
        "seed_rows": config.seed_rows,
        "generated_rows": n_generated,
        "training": {a: {k: manifests[a][k] for k in TRAINING_KEYS} for a in ARMS},
        "instances": {b: len(predictions[(ARMS[0], b)]) for b in METRICS},
        "scores": {f"{b} {m}": {a: estimate(scores[(a, b, m)], **est) for a in ARMS} for b, m in metrics},
        "differences": {
            f"{b} {m}: {x} - {y}": paired_difference(scores[(x, b, m)], scores[(y, b, m)], **est)
            for b, m in metrics
            for x, y in COMPARISONS
        },
    }
    _write_rows(out, predictions)
    for name, by_arm in results["scores"].items():
        plot_estimates(by_arm, out / f"{name.replace(' ', '_')}.png", f"E3: {name}", name.split()[-1])
    return results


def _write_rows(out: Path, predictions: dict) -> None:
    rows = []
    for benchmark in METRICS:
        per_arm = [predictions[(arm, benchmark)] for arm in ARMS]
        for instances in zip(*per_arm, strict=True):
            if len({p["id"] for p in instances}) != 1:
                raise ValueError(f"{benchmark}: the arms were evaluated on different instances")
            row = {"benchmark": benchmark, "id": instances[0]["id"], "references": instances[0]["references"]}
            for arm, p in zip(ARMS, instances, strict=True):
                row[arm] = {k: p[k] for k in ("prediction", *METRICS[benchmark])}
            rows.append(row)
    write_jsonl(out / "rows.jsonl", rows)
