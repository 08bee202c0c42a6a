"""Run a TRL SFT recipe: the instruction generator (flipped pairs) or the final instruction-following model.

Both recipes train with `trl.SFTTrainer` on conversational prompt-completion examples (`hf_david.train.data`),
so the loss covers completion tokens only. A run writes into `output_dir`:

* the model (LoRA adapters merged, so any `from_pretrained` loads it; the adapters stay in `adapter/`);
* `hf_david_training.json` (base model, task, datasets with rows and licences, every hyper-parameter and the
  seed, losses, log history, command), which the model loader reads to recognise a trained generator and
  the model card is written from;
* `loss_curve.png` and the model card (`README.md`).

Checkpoints go to `<output_dir>/checkpoints`; `resume` continues from the last one, and they are removed at
the end unless `keep_checkpoints`.

Precision: `fp32` (default) trains fp32 weights. `bf16` loads the base weights in bfloat16 with no autocast,
which is meant for LoRA (peft keeps the adapters in fp32; they are merged into fp32 base weights at the end).
Trainer's own `bf16=True` (autocast) stays off: on CPU it is slower than either (docs/benchmarks.md).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import shutil
import time
import warnings
from pathlib import Path

import torch
from datasets import Dataset
from trl import SFTConfig

from hf_david.artifacts import FOLLOWING_TASK, GENERATOR_TASK, LOSS_CURVE, TRAINING_MANIFEST, command_line
from hf_david.models import load_tokenizer, resolve_model
from hf_david.publish.cards import write_model_card
from hf_david.publish.plots import plot_loss_curve
from hf_david.train.config import GeneratorConfig, RecipeConfig
from hf_david.train.data import build_following_data, build_generator_data


def make_trainer(config: RecipeConfig, train: Dataset, eval_ds: Dataset | None):
    """An `SFTTrainer` on a fresh copy of the base model (LoRA-wrapped when `config.lora`).

    The trainer's args are `config` with its checkpoints under `<output_dir>/checkpoints`, and evaluation
    off when there is no eval set.
    """
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
    args = dataclasses.replace(
        config,
        output_dir=str(config.checkpoint_dir),
        eval_strategy=config.eval_strategy if eval_ds is not None else "no",
    )
    return SFTTrainer(
        model=model,
        args=args,
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


def last_checkpoint(config: RecipeConfig) -> str | None:
    """The checkpoint to resume from (None for a fresh run); refuses to mix a new run into old checkpoints."""
    from transformers.trainer_utils import get_last_checkpoint

    ckpt_dir = config.checkpoint_dir
    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    if last and not config.resume:
        raise FileExistsError(f"{ckpt_dir} has checkpoints: pass --resume to continue, or use another output_dir")
    if config.resume and not last:
        raise FileNotFoundError(f"--resume given but no checkpoint in {ckpt_dir}")
    return last


def train(config: RecipeConfig, command: str | None = None) -> Path:
    """Run a recipe end to end and return the model folder (`config.output_dir`).

    `command` is the command line recorded in the training manifest (default: this process's, see
    `hf_david.artifacts.command_line`).
    """
    out = Path(config.output_dir)
    last = last_checkpoint(config)
    builder = build_generator_data if isinstance(config, GeneratorConfig) else build_following_data
    train_ds, eval_ds, sources = builder(config)
    trainer = make_trainer(config, train_ds, eval_ds)
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    wall = time.perf_counter() - start
    metrics = _final_eval(trainer) if eval_ds is not None else {}
    save_model(trainer, config, out)
    history = trainer.state.log_history
    train_losses = [h["loss"] for h in history if "loss" in h]
    record = {
        "base_model": config.base_model,
        "base_model_path": resolve_model(config.base_model),
        "task": GENERATOR_TASK if isinstance(config, GeneratorConfig) else FOLLOWING_TASK,
        "datasets": [s.to_dict() for s in sources],
        "train_rows": len(train_ds),
        "eval_rows": len(eval_ds) if eval_ds is not None else 0,
        "hyperparameters": {
            **config.to_dict(),  # every SFTConfig field plus ours; token fields are masked by `to_dict`
            "eval_strategy": trainer.args.eval_strategy.value,
            "effective_batch_size": config.per_device_train_batch_size * config.gradient_accumulation_steps,
        },
        "hyperparameters_shown": options_set(config),
        "seed": config.seed,
        "train_loss": train_losses[-1] if train_losses else None,
        "train_loss_mean": result.training_loss,
        "eval_loss": metrics.get("eval_loss"),
        "global_step": trainer.state.global_step,
        "wall_seconds": round(wall, 1),
        "seconds_per_step": round(wall / max(1, trainer.state.global_step - _step_of(last)), 3),
        "log_history": history,
        "command": command or command_line(),
    }
    (out / TRAINING_MANIFEST).write_text(json.dumps(record, indent=2, default=str) + "\n")
    plot_loss_curve(history, out / LOSS_CURVE)
    if not config.keep_checkpoints:
        shutil.rmtree(config.checkpoint_dir, ignore_errors=True)
    write_model_card(out)
    return out


def options_set(config: RecipeConfig) -> list[str]:
    """What the model card lists: the options hf_david declares (its own, and TRL's it gives other defaults)
    and any other option set away from TRL's default on this run."""
    ours = itertools.takewhile(lambda cls: cls is not SFTConfig, type(config).__mro__)
    declared = {name for cls in ours for name in vars(cls).get("__annotations__", {})}
    with warnings.catch_warnings():  # TRL's own default gradient_checkpointing=True is a deprecated alias
        warnings.simplefilter("ignore", FutureWarning)
        defaults = SFTConfig(output_dir=config.output_dir, bf16=False).to_dict()  # TRL's bf16=True fails on a CPU
    return sorted(k for k, v in config.to_dict().items() if k in declared or defaults.get(k) != v)


def _final_eval(trainer) -> dict:
    """The eval metrics at the last step: logged already when the last step was an eval step, else run now."""
    evals = [h for h in trainer.state.log_history if "eval_loss" in h]
    if evals and evals[-1]["step"] == trainer.state.global_step:
        return evals[-1]
    return trainer.evaluate()


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
