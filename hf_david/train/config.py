"""The two SFT recipes' configurations: `trl.SFTConfig` plus what hf_david adds.

`GeneratorConfig` (`hf-david train-generator`) and `FollowingConfig` (`hf-david train`) subclass
`trl.SFTConfig`, so every `TrainingArguments`/`SFTConfig` option is available as is, and `trl.TrlParser`
turns the dataclass into the command line (`--config recipe.yaml` plus overrides). Fields whose default
differs from TRL's are redeclared with our default, the way `SFTConfig` does over `TrainingArguments`.

`output_dir` is the model folder; the trainer writes its checkpoints to `<output_dir>/checkpoints`
(`checkpoint_dir`). `precision` sets the dtype of the base weights; mixed-precision autocast (`bf16`)
stays off (see docs/benchmarks.md for the CPU step times behind this choice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from trl import SFTConfig

from dataset_scripts.seed import DOLLY_HUB_ID, DOLLY_LICENSE
from hf_david.models import DEFAULT_MODEL
from hf_david.prompts import INSTRUCTION_GENERATION

CHECKPOINTS = "checkpoints"  # under output_dir; removed after a run unless keep_checkpoints


def _opt(default, help: str, **metadata):
    """A dataclass field with a `--help` text (read by `HfArgumentParser`)."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, **metadata})
    return field(default=default, metadata={"help": help, **metadata})


@dataclass
class RecipeConfig(SFTConfig):
    """What both recipes share: the base model, the seed data, LoRA and precision, on top of `SFTConfig`."""

    # Required: the model folder (TrainingArguments' `output_dir` is optional).
    output_dir: str = field(metadata={"help": "Model folder to write; checkpoints go to OUTPUT_DIR/checkpoints."})

    # hf_david's own options
    base_model: str = _opt(DEFAULT_MODEL, "Model to fine-tune: an hf_david alias, a Hub id or a local folder.")
    seed_data: str = _opt(
        DOLLY_HUB_ID,
        "Seed pairs: Dolly-15k (Hub id or local jsonl), or any dataset when the column options are given.",
    )
    seed_license: str = _opt(DOLLY_LICENSE, "Licence of the seed data, recorded in the model card.")
    instruction_column: str | None = _opt(None, "Instruction column of seed_data; unset: read seed_data as Dolly.")
    input_column: str | None = _opt(None, "Optional input column of seed_data.")
    output_column: str | None = _opt(None, "Output column of seed_data (required with instruction_column).")
    max_seed_rows: int | None = _opt(None, "Train on the first N seed rows (after the held-out rows are removed).")
    eval_rows: int = _opt(200, "Eval rows: Dolly's held-out rows 6200-6399, otherwise a seeded random split.")
    lora: bool = _opt(False, "Train LoRA adapters (merged into fp32 weights at the end) instead of all weights.")
    lora_r: int = _opt(16, "LoRA rank.")
    lora_alpha: int = _opt(32, "LoRA alpha.")
    lora_dropout: float = _opt(0.05, "LoRA dropout.")
    lora_layers: int | None = _opt(None, "LoRA on the top N transformer layers only (backward stops below them).")
    precision: Literal["fp32", "bf16"] = _opt("fp32", "dtype of the base weights; no autocast either way.")
    resume: bool = _opt(False, "Continue from the last checkpoint in OUTPUT_DIR/checkpoints.")
    keep_checkpoints: bool = _opt(False, "Keep OUTPUT_DIR/checkpoints after the run.")

    # SFTConfig / TrainingArguments fields with our defaults
    num_train_epochs: float = _opt(1.0, "Total number of training epochs to perform.")
    learning_rate: float = _opt(1e-4, "The initial learning rate for AdamW.")
    warmup_steps: float = _opt(10, "Linear warmup steps (a float in [0, 1) is a ratio of the total steps).")
    logging_steps: float = _opt(5, "Log every X update steps.")
    eval_strategy: str = _opt("steps", "Evaluation strategy; 'no' is used when there are no eval rows.")
    eval_steps: float | None = _opt(50, "Evaluate every X update steps.")
    save_steps: float = _opt(50, "Save a checkpoint every X update steps.")
    save_total_limit: int | None = _opt(2, "Keep at most this many checkpoints.")
    seed: int = _opt(0, "Seed for the model init, data order, splits and the seed/generated mix.")
    max_length: int | None = _opt(512, "Maximum tokens per example (prompt + completion); longer ones are truncated.")
    completion_only_loss: bool | None = _opt(True, "Loss on the completion tokens only (the prompt is masked).")
    train_sampling_strategy: str = _opt("group_by_length", "Batch examples of similar length (less padding).")
    bf16: bool | None = _opt(False, "bf16 mixed-precision autocast; off: use `precision` to set the weights' dtype.")
    gradient_checkpointing: bool | None = _opt(
        None, "Deprecated alias of `activation_checkpointing` (off by default).", nargs="?", const=True
    )
    disable_tqdm: bool | None = _opt(False, "Disable the progress bars.")

    def __post_init__(self) -> None:
        if self.precision not in {"fp32", "bf16"}:
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {self.precision!r}")
        columns = (self.instruction_column, self.output_column)
        if any(columns) and not all(columns):
            raise ValueError("give both instruction_column and output_column (input_column is optional)")
        if not self.output_dir:
            raise ValueError("output_dir is required")
        super().__post_init__()

    @property
    def checkpoint_dir(self) -> Path:
        return Path(self.output_dir) / CHECKPOINTS


@dataclass
class GeneratorConfig(RecipeConfig):
    """`hf-david train-generator`: SFT on flipped seed pairs (output [+ context] -> instruction)."""

    prompt: str = _opt(INSTRUCTION_GENERATION, "Flipped prompt: a shipped prompt name or a .yaml prompt file.")


@dataclass
class FollowingConfig(RecipeConfig):
    """`hf-david train`: SFT of the instruction-following model on seed plus generated data."""

    generated: list[str] = _opt([], "`hf-david generate --out` folders to mix in.")
    generated_fraction: float = _opt(0.5, "Share of generated rows in the training mix (0: seed only).")
    use_seed: bool = _opt(True, "Train on the seed data too (--no_use_seed: generated data only).")
