"""Benchmark runner: greedy batched generation with a causal LM, scored by hf_david's `evaluate` metrics.

`evaluate_model(config, out_dir)` loads a benchmark (SuperNI, LongForm, or the Dolly held-out proxy),
renders each prompt as the user turn of the model's chat template (plain text when it has none), generates
greedily in length-sorted batches, and writes to `out_dir`:
- `predictions.jsonl`: one row per instance (id, prompt, prediction, references, group, per-instance scores);
- `metrics.json`: the config, the metric output (overall + per category/source) and timings;
- `results.md`: a Markdown table with the per-category (SuperNI) or per-source (LongForm) breakdown.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from datasets import Dataset
from tqdm.auto import tqdm

from dataset_scripts import longform as longform_data
from dataset_scripts import superni as superni_data
from hf_david.metrics import load_metric
from hf_david.models import load_model, load_tokenizer

BENCHMARKS = ("superni", "longform", "dolly-heldout")
# SuperNI: Tk-Instruct's max_target_length (128). Long-form: room for a few paragraphs on a CPU budget.
DEFAULT_MAX_NEW_TOKENS = {"superni": 128, "longform": 256, "dolly-heldout": 256}
LABELS = {
    "superni": "SuperNI (NIv2 English test tasks)",
    "longform": "LongForm test set",
    "dolly-heldout": "Dolly held-out long-form responses (PROXY for LongForm, not the LongForm test set)",
}


@dataclass
class EvalConfig:
    """What to evaluate; `data` is a path (or Hub id for LongForm), None for each benchmark's default."""

    model: str
    benchmark: str = "superni"
    data: str | None = None
    max_instances: int | None = None
    batch_size: int = 8
    max_new_tokens: int | None = None
    prompt_setting: str = "def+2pos"
    max_prompt_tokens: int = 1024
    revision: str | None = None

    def __post_init__(self) -> None:
        if self.benchmark not in BENCHMARKS:
            raise ValueError(f"benchmark must be one of {', '.join(BENCHMARKS)}, got {self.benchmark!r}")
        if self.prompt_setting not in superni_data.PROMPT_SETTINGS:
            raise ValueError(f"prompt_setting must be one of {sorted(superni_data.PROMPT_SETTINGS)}")
        if self.max_new_tokens is None:
            self.max_new_tokens = DEFAULT_MAX_NEW_TOKENS[self.benchmark]
        for name in ("batch_size", "max_new_tokens", "max_prompt_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


def load_benchmark(config: EvalConfig) -> Dataset:
    """Rows with `id`, `source_text` (the prompt before the chat template), `references`, `group`."""
    if config.benchmark == "superni":
        ds = superni_data.load_superni(config.data, config.max_instances)
        tokenizer = load_tokenizer(config.model, config.revision)

        def fits(text: str) -> bool:
            return len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= config.max_prompt_tokens

        return Dataset.from_dict(
            {
                "id": ds["id"],
                "source_text": [superni_data.tk_instruct_prompt(r, config.prompt_setting, fits) for r in ds],
                "references": ds["references"],
                "group": ds["task_category"],
                "task_id": ds["task_name"],
            }
        )
    if config.benchmark == "longform":
        ds = longform_data.load_longform(config.data or longform_data.LONGFORM_HUB_ID)
    else:
        ds = longform_data.load_dolly_heldout(config.data or superni_data.default_data_dir().parent)
    if config.max_instances is not None:
        ds = ds.select(superni_data.round_robin(ds["source"], config.max_instances))
    return Dataset.from_dict(
        {
            "id": ds["id"],
            "source_text": ds["input"],
            "references": [[o] for o in ds["output"]],
            "group": ds["source"],
        }
    )


def render_prompts(texts: list[str], tokenizer, max_prompt_tokens: int) -> list[str]:
    """Truncate each text to `max_prompt_tokens` (as Tk-Instruct does), then wrap it as a chat user turn."""
    rendered = []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) > max_prompt_tokens:
            text = tokenizer.decode(ids[:max_prompt_tokens], skip_special_tokens=True)
        if tokenizer.chat_template:
            text = tokenizer.apply_chat_template(
                [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
            )
        rendered.append(text)
    return rendered


@torch.inference_mode()
def generate(
    model_name: str,
    prompts: list[str],
    *,
    batch_size: int = 8,
    max_new_tokens: int = 128,
    revision: str | None = None,
    desc: str = "generating",
) -> list[str]:
    """Greedy completions of already-rendered prompts, batched by length (longest first), in input order."""
    model, tokenizer = load_model(model_name, revision)
    # A chat template already holds the special tokens (BOS included, where the model has one).
    special = not tokenizer.chat_template
    lengths = [len(tokenizer(p, add_special_tokens=special)["input_ids"]) for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: -lengths[i])
    outputs: list[str] = [""] * len(prompts)
    with tqdm(total=len(prompts), desc=desc, unit="prompt") as bar:
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = [prompts[i] for i in idx]
            enc = tokenizer(batch, return_tensors="pt", padding=True, add_special_tokens=special)
            out = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                pad_token_id=tokenizer.pad_token_id,
            )
            texts = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
            for i, text in zip(idx, texts, strict=True):
                outputs[i] = text.strip()
            bar.update(len(idx))
    return outputs


def score(config: EvalConfig, ds: Dataset, predictions: list[str]) -> dict:
    """The benchmark's metric with its breakdown and per-instance scores."""
    if config.benchmark == "superni":
        return load_metric("superni").compute(
            predictions=predictions,
            references=ds["references"],
            task_ids=ds["task_id"],
            categories=ds["group"],
            per_instance=True,
        )
    return load_metric("longform_meteor").compute(
        predictions=predictions, references=ds["references"], sources=ds["group"], per_instance=True
    )


def markdown_table(config: EvalConfig, metrics: dict) -> str:
    """Overall and per-group scores as a Markdown table (METEOR x 100, as in the LongForm README)."""
    lines = [f"# {LABELS[config.benchmark]}", "", f"Model: `{config.model}`", ""]
    if config.benchmark == "superni":
        lines += [
            f"Prompt: Tk-Instruct `{config.prompt_setting}`; greedy, max {config.max_new_tokens} new tokens.",
            "",
            "| category | instances | exact match | ROUGE-L |",
            "|---|---:|---:|---:|",
        ]
        rows = sorted(metrics["per_category"].items())
        lines += [f"| {c} | {v['count']} | {v['exact_match']:.2f} | {v['rougeL']:.2f} |" for c, v in rows]
        em, rouge = metrics["exact_match"], metrics["rougeL"]
        lines.append(f"| **all** | {metrics['count']} | **{em:.2f}** | **{rouge:.2f}** |")
    else:
        lines += [
            f"Greedy, max {config.max_new_tokens} new tokens. METEOR x 100; **all** is the mean of the "
            "per-source scores.",
            "",
            "| source | instances | METEOR |",
            "|---|---:|---:|",
        ]
        rows = sorted(metrics["per_source"].items())
        lines += [f"| {s} | {v['count']} | {100 * v['meteor']:.2f} |" for s, v in rows]
        lines.append(f"| **all** | {metrics['count']} | **{100 * metrics['meteor']:.2f}** |")
    if config.max_instances is not None:
        lines += ["", f"Truncated run: at most {config.max_instances} instances (round-robin over groups)."]
    return "\n".join(lines) + "\n"


def evaluate_model(config: EvalConfig, out_dir: str | Path) -> dict:
    """Run one benchmark end to end and write predictions.jsonl, metrics.json and results.md."""
    out = Path(out_dir)
    started = time.perf_counter()
    ds = load_benchmark(config)
    tokenizer = load_tokenizer(config.model, config.revision)
    prompts = render_prompts(ds["source_text"], tokenizer, config.max_prompt_tokens)
    gen_start = time.perf_counter()
    predictions = generate(
        config.model,
        prompts,
        batch_size=config.batch_size,
        max_new_tokens=config.max_new_tokens,
        revision=config.revision,
        desc=f"{config.benchmark}: generating",
    )
    gen_seconds = time.perf_counter() - gen_start
    metrics = score(config, ds, predictions)
    per_instance = {k: metrics.pop(k) for k in list(metrics) if k.endswith("_per_instance")}
    out.mkdir(parents=True, exist_ok=True)
    with (out / "predictions.jsonl").open("w", encoding="utf-8") as f:
        for i, row in enumerate(ds):
            record = {k: row[k] for k in ("id", "group", "references")}
            record.update(prompt=prompts[i], prediction=predictions[i])
            record.update({k.removesuffix("_per_instance"): v[i] for k, v in per_instance.items()})
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    result = {
        "benchmark": config.benchmark,
        "label": LABELS[config.benchmark],
        "config": asdict(config),
        "instances": len(ds),
        "metrics": metrics,
        "seconds": {"generation": round(gen_seconds, 1), "total": round(time.perf_counter() - started, 1)},
    }
    (out / "metrics.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (out / "results.md").write_text(markdown_table(config, metrics))
    return result
