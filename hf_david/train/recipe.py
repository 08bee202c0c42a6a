"""TRL SFT recipes: the instruction generator (flipped pairs) and the final instruction-following model.

Both recipes train with `trl.SFTTrainer` on conversational prompt-completion examples (`train_data`), so
the loss covers completion tokens only. A run writes the model (LoRA adapters merged, so any
`from_pretrained` loads it), `hf_david_training.json` (base model, task, datasets with rows and licences,
every hyper-parameter and the seed, losses, log history, command), `loss_curve.png` and a model card.
Checkpoints go to `<output_dir>/checkpoints` and `--resume` continues from the last one.

Precision: `fp32` (default) trains fp32 weights. `bf16` loads the base weights in bfloat16 with no autocast,
which is meant for LoRA (peft keeps the adapters in fp32; they are merged into fp32 base weights at the
end). On this project's 2-core CPU (`benchmarks/train_precision.py`, 135M model, 8x160 tokens, lightly
loaded machine) a full step took ~10 s in fp32, ~5 s with bf16 weights and ~40 s with Trainer's `bf16=True`
(CPU autocast), so autocast is never used and bf16 weights are opt-in.
"""

from __future__ import annotations

import json
import math
import shlex
import shutil
import sys
import time
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

import torch
from datasets import Dataset, concatenate_datasets

from dataset_scripts.seed import (
    DOLLY_HUB_ID,
    DOLLY_LICENSE,
    DataSource,
    load_columns,
    load_dolly,
    load_generated,
    split_heldout,
)
from hf_david.artifacts import GENERATOR_TASK, TRAINING_MANIFEST
from hf_david.models import DEFAULT_MODEL, load_tokenizer, resolve_model
from hf_david.prompts import INSTRUCTION_GENERATION
from hf_david.train.data import mix, to_flipped, to_following

LOSS_CURVE = "loss_curve.png"
FOLLOWING_TASK = "instruction-following"


@dataclass
class RecipeConfig:
    """What both recipes share: the base model, the seed data, and the SFT hyper-parameters."""

    output_dir: str = ""
    base_model: str = DEFAULT_MODEL
    seed_data: str = DOLLY_HUB_ID  # Dolly (Hub id or local jsonl); any dataset when the columns are given
    seed_license: str = DOLLY_LICENSE
    instruction_column: str | None = None  # None: read `seed_data` as Dolly
    input_column: str | None = None
    output_column: str | None = None
    max_seed_rows: int | None = None  # the first N seed rows (after the held-out rows are removed)
    eval_rows: int = 200  # Dolly: from the held-out rows 6200-6399; otherwise a seeded random split
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_layers: int | None = None  # LoRA on the top N transformer layers only: backward stops below them
    precision: str = "fp32"  # "fp32" or "bf16"
    max_length: int = 512
    num_train_epochs: float = 1.0
    max_steps: int = -1
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    learning_rate: float = 1e-4
    lr_scheduler_type: str = "linear"
    warmup_steps: int = 10
    weight_decay: float = 0.0
    logging_steps: int = 5
    eval_steps: int = 50
    save_steps: int = 50
    save_total_limit: int = 2
    seed: int = 0
    resume: bool = False
    keep_checkpoints: bool = False

    def __post_init__(self) -> None:
        if self.precision not in {"fp32", "bf16"}:
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {self.precision!r}")
        columns = (self.instruction_column, self.output_column)
        if any(columns) and not all(columns):
            raise ValueError("give both instruction_column and output_column (input_column is optional)")


@dataclass
class GeneratorConfig(RecipeConfig):
    """`hf-david train-generator`: SFT on flipped seed pairs (output [+ context] -> instruction)."""

    prompt: str = INSTRUCTION_GENERATION


@dataclass
class FollowingConfig(RecipeConfig):
    """`hf-david train`: SFT of the instruction-following model on seed plus generated data."""

    generated: list[str] = field(default_factory=list)  # `hf-david generate --out` job folders
    generated_fraction: float = 0.5  # share of generated rows in the training mix
    use_seed: bool = True


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
    train, held, source = load_seed(config)
    return to_flipped(train, config.prompt), to_flipped(held, config.prompt) if held else None, [source]


def build_following_data(config: FollowingConfig) -> tuple[Dataset, Dataset | None, list[DataSource]]:
    seed, held, seed_source = load_seed(config) if config.use_seed else (None, None, None)
    generated, gen_sources = [], []
    for job in config.generated:
        ds, manifest = load_generated(job)
        generated.append(ds)
        corpus = (manifest.get("config") or {}).get("corpus", "unknown corpus")
        gen_sources.append(
            DataSource(
                name=Path(job).name,
                source=f"hf-david generate ({corpus})",
                rows=len(ds),
                license="inherits the corpus licence",
            )
        )
    gen = concatenate_datasets(generated) if generated else None
    mixed = mix(seed, gen, config.generated_fraction, config.seed)
    counts = {s: 0 for s in set(mixed["source"])}
    for s in mixed["source"]:
        counts[s] += 1
    sources = []
    if seed_source is not None and counts.get(seed.unique("source")[0]):
        sources.append(DataSource(**{**seed_source.to_dict(), "rows": counts[seed.unique("source")[0]]}))
    for src, ds in zip(gen_sources, generated, strict=True):
        rows = counts.get(ds[0]["source"], 0) if len(ds) else 0
        if rows:
            sources.append(DataSource(**{**src.to_dict(), "rows": rows}))
    if held is None and config.eval_rows:
        parts = mixed.train_test_split(test_size=min(config.eval_rows, len(mixed) // 10 or 1), seed=config.seed)
        mixed, held = parts["train"], parts["test"]
    return to_following(mixed), to_following(held) if held is not None else None, sources


def sft_config(config: RecipeConfig, has_eval: bool):
    """The TRL `SFTConfig` for a recipe: completion-only loss, no packing, length-grouped batches."""
    from trl import SFTConfig

    return SFTConfig(
        output_dir=str(Path(config.output_dir) / "checkpoints"),
        num_train_epochs=config.num_train_epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.per_device_train_batch_size,
        per_device_eval_batch_size=config.per_device_train_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_steps,
        weight_decay=config.weight_decay,
        logging_steps=config.logging_steps,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        seed=config.seed,
        data_seed=config.seed,
        bf16=False,  # no autocast: `precision` sets the dtype of the base weights instead
        fp16=False,
        max_length=config.max_length,
        packing=False,
        completion_only_loss=True,
        activation_checkpointing=False,
        train_sampling_strategy="group_by_length",
        report_to="none",
        disable_tqdm=False,
    )


def make_trainer(config: RecipeConfig, train: Dataset, eval_ds: Dataset | None):
    """An `SFTTrainer` on a fresh copy of the base model (LoRA-wrapped when `config.lora`)."""
    from transformers import AutoModelForCausalLM
    from trl import SFTTrainer

    torch.manual_seed(config.seed)
    dtype = torch.bfloat16 if config.precision == "bf16" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(resolve_model(config.base_model), dtype=dtype)
    peft_config = None
    if config.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=_lora_targets(model, config.lora_layers),
            task_type="CAUSAL_LM",
        )
    return SFTTrainer(
        model=model,
        args=sft_config(config, eval_ds is not None),
        train_dataset=train,
        eval_dataset=eval_ds,
        processing_class=load_tokenizer(config.base_model),
        peft_config=peft_config,
    )


def _lora_targets(model, top_layers: int | None) -> str | list[str]:
    """ "all-linear", or the names of the linear modules inside the top `top_layers` transformer layers."""
    if not top_layers:
        return "all-linear"
    n = model.config.num_hidden_layers
    if not 0 < top_layers <= n:
        raise ValueError(f"lora_layers must be in 1..{n}, got {top_layers}")
    keep = {str(i) for i in range(n - top_layers, n)}
    return [
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
        and (parts := name.split(".layers."))
        and len(parts) == 2
        and parts[1].split(".")[0] in keep
    ]


def train(config: RecipeConfig, command: str | None = None) -> Path:
    """Run a recipe end to end and return the model directory."""
    from transformers.trainer_utils import get_last_checkpoint

    if not config.output_dir:
        raise ValueError("output_dir is required")
    out = Path(config.output_dir)
    ckpt_dir = out / "checkpoints"
    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    if last and not config.resume:
        raise FileExistsError(f"{ckpt_dir} has checkpoints: pass --resume to continue, or use another output_dir")
    if config.resume and not last:
        raise FileNotFoundError(f"--resume given but no checkpoint in {ckpt_dir}")
    task = GENERATOR_TASK if isinstance(config, GeneratorConfig) else FOLLOWING_TASK
    builder = build_generator_data if isinstance(config, GeneratorConfig) else build_following_data
    train_ds, eval_ds, sources = builder(config)
    trainer = make_trainer(config, train_ds, eval_ds)
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    wall = time.perf_counter() - start
    history = trainer.state.log_history
    evals = [h for h in history if "eval_loss" in h]
    if eval_ds is None:
        metrics = {}
    elif evals and evals[-1]["step"] == trainer.state.global_step:
        metrics = evals[-1]
    else:
        metrics = trainer.evaluate()
    save_model(trainer, config, out)
    train_losses = [h["loss"] for h in history if "loss" in h]
    record = {
        "base_model": config.base_model,
        "base_model_path": resolve_model(config.base_model),
        "task": task,
        "datasets": [s.to_dict() for s in sources],
        "train_rows": len(train_ds),
        "eval_rows": len(eval_ds) if eval_ds is not None else 0,
        "hyperparameters": {
            **asdict(config),
            "effective_batch_size": config.per_device_train_batch_size * config.gradient_accumulation_steps,
        },
        "seed": config.seed,
        "train_loss": train_losses[-1] if train_losses else None,
        "train_loss_mean": result.training_loss,
        "eval_loss": metrics.get("eval_loss"),
        "global_step": trainer.state.global_step,
        "wall_seconds": round(wall, 1),
        "seconds_per_step": round(wall / max(1, trainer.state.global_step - _step_of(last)), 3),
        "log_history": history,
        "command": command or shlex.join(sys.argv),
    }
    (out / TRAINING_MANIFEST).write_text(json.dumps(record, indent=2, default=str) + "\n")
    plot_loss_curve(history, out / LOSS_CURVE)
    if not config.keep_checkpoints:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    from hf_david.publish.cards import write_model_card

    write_model_card(out)
    return out


def save_model(trainer, config: RecipeConfig, out: Path) -> None:
    """Save a plain transformers model dir; LoRA adapters (kept in `adapter/`) are merged into fp32 base weights."""
    if config.lora:
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        trainer.model.save_pretrained(out / "adapter")
        base = AutoModelForCausalLM.from_pretrained(resolve_model(config.base_model), dtype=torch.float32)
        model = PeftModel.from_pretrained(base, out / "adapter").merge_and_unload()
    else:
        model = trainer.model
    model.save_pretrained(out)
    trainer.processing_class.save_pretrained(out)


def _step_of(checkpoint: str | None) -> int:
    return int(checkpoint.rsplit("-", 1)[1]) if checkpoint else 0


def plot_loss_curve(history: list[dict], path: Path) -> None:
    """Train (and eval) loss against the step, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("loss", "train"), ("eval_loss", "eval")):
        points = [(h["step"], h[key]) for h in history if key in h and math.isfinite(h[key])]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o" if key == "eval_loss" else None, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (completion tokens)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def add_config_arguments(parser, config_cls: type) -> None:
    """`--config FILE.yaml` plus one `--field` option per dataclass field (CLI values override the file)."""
    import argparse
    import typing

    parser.add_argument("--config", help="YAML file with any of the options below; CLI options override it")
    hints = typing.get_type_hints(config_cls)
    for f in fields(config_cls):
        kind = hints[f.name]
        flag = "--" + f.name.replace("_", "-")
        help_text = f"default: {f.default if f.default is not MISSING else '[]'}"
        if kind is bool:
            parser.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_text
            )
        elif typing.get_origin(kind) is list:
            parser.add_argument(flag, dest=f.name, nargs="*", default=argparse.SUPPRESS, help=help_text)
        else:
            base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
            parser.add_argument(flag, dest=f.name, type=base, default=argparse.SUPPRESS, help=help_text)


def config_from_args(config_cls: type, args) -> RecipeConfig:
    """Defaults, then the YAML file's values, then explicit CLI options."""
    import yaml

    names = {f.name for f in fields(config_cls)}
    values: dict = {}
    if getattr(args, "config", None):
        loaded = yaml.safe_load(Path(args.config).read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{args.config}: expected a mapping of option names to values")
        unknown = sorted(set(loaded) - names)
        if unknown:
            raise ValueError(f"{args.config}: unknown options {unknown}; valid options are {sorted(names)}")
        values.update(loaded)
    values.update({k: v for k, v in vars(args).items() if k in names})
    return config_cls(**values)


def command_line(args) -> str:
    """The equivalent `hf-david` command of parsed arguments (explicit options only), for the training record."""
    words = ["hf-david", args.command]
    for key, value in vars(args).items():
        if key in {"command", "func"} or value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + key.replace("_", "-"))
        elif isinstance(value, list):
            words += [flag, *map(str, value)]
        else:
            words += [flag, str(value)]
    return shlex.join(words)
