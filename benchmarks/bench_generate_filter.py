"""Throughput of the generation and filter transforms against naive loops, measured in one run.

Prints, on the same inputs:
- generated tokens/s: `GenerateInstructions` vs a per-row `model.generate(num_return_sequences=K)` loop;
- scored tokens/s: `score_outputs` (batched, length-sorted) vs one forward pass per candidate;
- the machine's fp32 and bf16 matmul GFLOP/s, and the filter's model FLOP/s as a fraction of fp32;
- peak RSS.

The outputs are the first two sentences of long passages: WikiText-style paragraphs from `--passages FILE`
(a jsonl with a `text` column), else the prose of Python's reference docs shipped with Python.

Usage: .venv/bin/python benchmarks/bench_generate_filter.py [--passages FILE.jsonl] [--rows 8] [--k 4] [--model ...]
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import time
from pathlib import Path

import torch

from dataset_scripts.corpus import python_docs_paragraphs
from hf_david.models import DEFAULT_MODEL, encode_pair, load_model, score_outputs
from hf_david.prompts import load_prompt
from hf_david.stages.generate import GenerateConfig, GenerateInstructions


def outputs(n: int, passages: Path | None) -> list[str]:
    """The first two sentences of long paragraphs: realistic outputs of 20-60 tokens."""
    if passages is not None:
        texts = (json.loads(line)["text"] for line in passages.open())
    else:
        texts = (row["text"] for row in python_docs_paragraphs())
    spans = (". ".join(t.split(". ")[:2]).strip() for t in texts if len(t) > 300)
    return list(itertools.islice(spans, n))


def matmul_gflops(dtype: torch.dtype, n: int = 1024, repeats: int = 20) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


@torch.inference_mode()
def naive_generate(model, tokenizer, texts: list[str], k: int, max_new_tokens: int) -> int:
    prompt = load_prompt("instruction_generation")
    tokens = 0
    for text in texts:
        enc = tokenizer.apply_chat_template(
            prompt.messages(output=text, context=""), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        out = model.generate(
            **enc, do_sample=True, temperature=0.9, top_p=0.95, num_return_sequences=k, max_new_tokens=max_new_tokens
        )
        tokens += int((out[:, enc["input_ids"].shape[1] :] != tokenizer.pad_token_id).sum())
    return tokens


@torch.inference_mode()
def naive_score(model, tokenizer, instructions: list[str], texts: list[str]) -> int:
    tokens = 0
    for instruction, text in zip(instructions, texts, strict=True):
        ids, n_prompt = encode_pair(tokenizer, instruction, text)
        labels = torch.tensor([[-100] * n_prompt + ids[n_prompt:]])
        model(input_ids=torch.tensor([ids]), labels=labels)
        tokens += len(ids)
    return tokens


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--passages", type=Path, default=None, help="jsonl with a `text` column")
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args()

    model, tokenizer = load_model(args.model)
    texts = outputs(args.rows, args.passages)
    print(f"model {args.model}, {len(texts)} outputs, K={args.k}, torch threads {torch.get_num_threads()}")

    gen = GenerateInstructions(GenerateConfig(model=args.model, k=args.k, max_new_tokens=args.max_new_tokens))
    _, t_gen = timed(gen, {"output": texts})
    naive_tokens, t_naive = timed(naive_generate, model, tokenizer, texts, args.k, args.max_new_tokens)
    gen_rate, naive_rate = gen.stats.tokens / t_gen, naive_tokens / t_naive

    instructions = [f"Write a passage about {t.split()[0]} {t.split()[1]}." for t in texts for _ in range(args.k)]
    repeated = [t for t in texts for _ in range(args.k)]
    n_scored = sum(len(encode_pair(tokenizer, i, t)[0]) for i, t in zip(instructions, repeated, strict=True))
    _, t_score = timed(score_outputs, instructions, repeated, model=args.model, batch_size=8)
    naive_scored, t_naive_score = timed(naive_score, model, tokenizer, instructions, repeated)
    score_rate, naive_score_rate = n_scored / t_score, naive_scored / t_naive_score

    fp32, bf16 = matmul_gflops(torch.float32), matmul_gflops(torch.bfloat16)
    flops_per_token = 2 * sum(p.numel() for n, p in model.named_parameters() if "embed_tokens" not in n)
    flops_per_token += 2 * model.config.hidden_size * model.config.vocab_size  # the (tied) LM head
    achieved = score_rate * flops_per_token / 1e9

    print(f"\n{'measure':<38}{'hf_david':>12}{'naive':>12}{'ratio':>8}")
    print(f"{'generation, generated tokens/s':<38}{gen_rate:>12.1f}{naive_rate:>12.1f}{gen_rate / naive_rate:>8.2f}")
    print(
        f"{'filter, scored tokens/s':<38}{score_rate:>12.1f}{naive_score_rate:>12.1f}"
        f"{score_rate / naive_score_rate:>8.2f}"
    )
    print(f"\nmatmul GFLOP/s: fp32 {fp32:.0f}, bf16 {bf16:.0f}")
    print(
        f"filter model FLOP/s: {achieved:.0f} GFLOP/s = {achieved / fp32:.0%} of the fp32 matmul rate "
        f"({flops_per_token / 1e9:.2f} GFLOP/token)"
    )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
