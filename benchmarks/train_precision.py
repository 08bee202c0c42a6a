"""Seconds per SFT step on CPU: fp32 weights, bf16 weights, and fp32 weights under bf16 autocast.

This is the measurement behind the recipes' `precision` default. It runs a few AdamW steps of the embedded
default model on a fixed random batch (batch x length tokens, loss on every token) in each mode and prints
the median step time. Run it on an otherwise idle machine: shared cores distort the numbers.

Usage: python benchmarks/train_precision.py [--model smollm2-135m-instruct] [--batch 8] [--length 160]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from transformers import AutoModelForCausalLM

from hf_david.models import DEFAULT_MODEL, resolve_model


def step_times(model_path: str, mode: str, batch: int, length: int, steps: int) -> list[float]:
    dtype = torch.bfloat16 if mode == "bf16-weights" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    ids = torch.randint(0, 1000, (batch, length), generator=torch.Generator().manual_seed(0))
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16-autocast"):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=160)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    path = resolve_model(args.model)
    for mode in ("fp32", "bf16-weights", "bf16-autocast"):
        times = step_times(path, mode, args.batch, args.length, args.steps)
        print(f"{mode:>14}: median {statistics.median(times):.2f} s/step  ({', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
