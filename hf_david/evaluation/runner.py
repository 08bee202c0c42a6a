"""Benchmark runner: greedy batched generation with a causal LM, scored by hf_david's `evaluate` metrics.

`evaluate_model(config, out_dir)` loads a benchmark (`hf_david.evaluation.benchmarks`), renders each prompt
as the user turn of the model's chat template, generates greedily in length-sorted batches, and writes to
`out_dir`:
- `predictions.jsonl`: one row per instance (id, prompt, prediction, references, group, per-instance scores);
- `metrics.json`: the command line, the config, the metric output (overall + per category/source) and
  timings;
- `results.md`: a Markdown table with the per-category (SuperNI) or per-source (LongForm) breakdown.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from datasets import Dataset
from tqdm.auto import tqdm

from hf_david.evaluation.benchmarks import LABELS, load_benchmark, render_prompts
from hf_david.evaluation.config import EvalConfig
from hf_david.metrics import load_metric
from hf_david.models import Engine, Sampling, get_engine, load_tokenizer


def generate(
    lm: Engine, prompts: list[str], *, batch_size: int = 8, max_new_tokens: int = 128, desc: str = "generating"
) -> list[str]:
    """Greedy completions of already-rendered prompts, batched by length (longest first), in input order."""
    tokenizer = lm.tokenizer
    # A chat template already holds the special tokens (BOS included, where the model has one).
    special = not tokenizer.chat_template
    ids = [tokenizer(p, add_special_tokens=special)["input_ids"] for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: -len(ids[i]))
    greedy = Sampling(k=1, max_new_tokens=max_new_tokens, do_sample=False)
    outputs: list[str] = [""] * len(prompts)
    with tqdm(total=len(prompts), desc=desc, unit="prompt") as bar:
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            new = [seqs[0] for seqs in lm.sample([ids[i] for i in idx], greedy, [0] * len(idx))]
            for i, text in zip(idx, tokenizer.batch_decode(new, skip_special_tokens=True), strict=True):
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


def write_predictions(path: Path, ds: Dataset, prompts: list[str], predictions: list[str], scores: dict) -> None:
    """One JSON line per instance: id, group, references, prompt, prediction and its per-instance scores."""
    with path.open("w", encoding="utf-8") as f:
        for i, row in enumerate(ds):
            record = {k: row[k] for k in ("id", "group", "references")}
            record.update(prompt=prompts[i], prediction=predictions[i])
            record.update({k.removesuffix("_per_instance"): v[i] for k, v in scores.items()})
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def evaluate_model(config: EvalConfig, out_dir: str | Path, command: str | None = None) -> dict:
    """Run one benchmark end to end and write predictions.jsonl, metrics.json and results.md.

    `command` is the command line that ran it (`hf_david.artifacts.command_line`), recorded in metrics.json.
    """
    out = Path(out_dir)
    started = time.perf_counter()
    ds = load_benchmark(config)
    tokenizer = load_tokenizer(config.model, config.revision)
    prompts = render_prompts(ds["source_text"], tokenizer, config.max_prompt_tokens)
    gen_start = time.perf_counter()
    lm = get_engine(config.engine, config.model, config.revision, config.dtype, config.device)
    predictions = generate(
        lm,
        prompts,
        batch_size=config.batch_size,
        max_new_tokens=config.max_new_tokens,
        desc=f"{config.benchmark}: generating",
    )
    gen_seconds = time.perf_counter() - gen_start
    metrics = score(config, ds, predictions)
    per_instance = {k: metrics.pop(k) for k in list(metrics) if k.endswith("_per_instance")}
    out.mkdir(parents=True, exist_ok=True)
    write_predictions(out / "predictions.jsonl", ds, prompts, predictions, per_instance)
    result = {
        "benchmark": config.benchmark,
        "label": LABELS[config.benchmark],
        "command": command,
        "config": asdict(config),
        "instances": len(ds),
        "metrics": metrics,
        "seconds": {"generation": round(gen_seconds, 1), "total": round(time.perf_counter() - started, 1)},
    }
    (out / "metrics.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (out / "results.md").write_text(markdown_table(config, metrics))
    return result
