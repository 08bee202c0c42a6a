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

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from transformers.hf_argparser import HfArg
from trl import SFTConfig

from dataset_scripts.seed import DOLLY_HUB_ID, DOLLY_LICENSE
from hf_david.models import DEFAULT_MODEL
from hf_david.prompts import INSTRUCTION_GENERATION

CHECKPOINTS = "checkpoints"  # under output_dir; removed after a run unless keep_checkpoints


@dataclass
class RecipeConfig(SFTConfig):
    """What both recipes share: the base model, the seed data, LoRA and precision, on top of `SFTConfig`."""

    # Required: the model folder (TrainingArguments' `output_dir` is optional).
    output_dir: str = HfArg(help="Model folder to write; checkpoints go to OUTPUT_DIR/checkpoints.")

    # hf_david's own options
    base_model: str = HfArg(
        default=DEFAULT_MODEL, help="Model to fine-tune: an hf_david alias, a Hub id or a local folder."
    )
    seed_data: str = HfArg(
        default=DOLLY_HUB_ID,
        help="Seed pairs: Dolly-15k (Hub id or local jsonl), or any dataset when the column options are given.",
    )
    seed_license: str = HfArg(default=DOLLY_LICENSE, help="Licence of the seed data, recorded in the model card.")
    instruction_column: str | None = HfArg(
        default=None, help="Instruction column of seed_data; unset: read seed_data as Dolly."
    )
    input_column: str | None = HfArg(default=None, help="Optional input column of seed_data.")
    output_column: str | None = HfArg(
        default=None, help="Output column of seed_data (required with instruction_column)."
    )
    max_seed_rows: int | None = HfArg(
        default=None, help="Train on the first N seed rows (after the held-out rows are removed)."
    )
    eval_rows: int = HfArg(
        default=200, help="Eval rows: Dolly's held-out rows 6200-6399, otherwise a seeded random split."
    )
    lora: bool = HfArg(
        default=False, help="Train LoRA adapters (merged into fp32 weights at the end) instead of all weights."
    )
    lora_r: int = HfArg(default=16, help="LoRA rank.")
    lora_alpha: int = HfArg(default=32, help="LoRA alpha.")
    lora_dropout: float = HfArg(default=0.05, help="LoRA dropout.")
    lora_layers: int | None = HfArg(
        default=None, help="LoRA on the top N transformer layers only (backward stops below them)."
    )
    precision: Literal["fp32", "bf16"] = HfArg(
        default="fp32", help="dtype of the base weights; no autocast either way."
    )
    resume: bool = HfArg(default=False, help="Continue from the last checkpoint in OUTPUT_DIR/checkpoints.")
    keep_checkpoints: bool = HfArg(default=False, help="Keep OUTPUT_DIR/checkpoints after the run.")

    # SFTConfig / TrainingArguments fields with our defaults
    num_train_epochs: float = HfArg(default=1.0, help="Total number of training epochs to perform.")
    learning_rate: float = HfArg(default=1e-4, help="The initial learning rate for AdamW.")
    warmup_steps: float = HfArg(
        default=10, help="Linear warmup steps (a float in [0, 1) is a ratio of the total steps)."
    )
    logging_steps: float = HfArg(default=5, help="Log every X update steps.")
    eval_strategy: str = HfArg(default="steps", help="Evaluation strategy; 'no' is used when there are no eval rows.")
    eval_steps: float | None = HfArg(default=50, help="Evaluate every X update steps.")
    save_steps: float = HfArg(default=50, help="Save a checkpoint every X update steps.")
    save_total_limit: int | None = HfArg(default=2, help="Keep at most this many checkpoints.")
    seed: int = HfArg(default=0, help="Seed for the model init, data order, splits and the seed/generated mix.")
    max_length: int | None = HfArg(
        default=512, help="Maximum tokens per example (prompt + completion); longer ones are truncated."
    )
    completion_only_loss: bool | None = HfArg(
        default=True, help="Loss on the completion tokens only (the prompt is masked)."
    )
    train_sampling_strategy: str = HfArg(
        default="group_by_length", help="Batch examples of similar length (less padding)."
    )
    bf16: bool | None = HfArg(
        default=False, help="bf16 mixed-precision autocast; off: use `precision` to set the weights' dtype."
    )
    gradient_checkpointing: bool | None = HfArg(
        default=None,
        help="Deprecated alias of `activation_checkpointing` (off by default).",
        metadata={"nargs": "?", "const": True},
    )
    disable_tqdm: bool | None = HfArg(default=False, help="Disable the progress bars.")

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

    prompt: str = HfArg(
        default=INSTRUCTION_GENERATION, help="Flipped prompt: a shipped prompt name or a .yaml prompt file."
    )


@dataclass
class FollowingConfig(RecipeConfig):
    """`hf-david train`: SFT of the instruction-following model on seed plus generated data."""

    generated: list[str] = HfArg(default_factory=list, help="`hf-david generate --out` folders to mix in.")
    generated_fraction: float = HfArg(default=0.5, help="Share of generated rows in the training mix (0: seed only).")
    use_seed: bool = HfArg(default=True, help="Train on the seed data too (--no_use_seed: generated data only).")
