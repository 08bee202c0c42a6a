"""Every engine on the same K-candidate workload, in one run: speed, agreement with the reference, memory.

For each engine configuration available on the machine (transformers fp32 = the reference, transformers
bf16, OpenVINO with its own precision, OpenVINO forced to f32), one subprocess each (so peak RSS is its own):
- generation: `GenerateInstructions` samples K candidates for each of `--rows` outputs in one engine call,
  with `--generator` (unset: the pipeline's default for `--model`, the shipped trained generator for the
  embedded default, whose prompt has no few-shot demonstrations); generated tokens/s, and the ratio to the
  transformers configurations;
- scoring: the reference's candidates (the same for every engine) scored by `score_pairs`; scored tokens/s,
  achieved model FLOP/s (2 x parameters per token) against the matmul ceiling of each precision;
- agreement with the reference: mean absolute difference of per-token NLL, and how often the argmin
  candidate (the one the filter keeps) is the same;
- peak RSS (before the benchmark loads an fp32 copy to count parameters), and the OpenVINO export time
  (into a fresh cache, in the parent process).

On CUDA (`--device cuda`) the transformers engine runs in bf16 and the decode-step ceiling is printed:
max(bytes of weights + KV cache read per step / memory bandwidth, FLOPs per step / peak FLOP/s).

The outputs are the first two sentences of long paragraphs, from `--passages FILE.jsonl` (a `text` column)
or else the prose of Python's reference docs. Usage:
    .venv/bin/python benchmarks/bench_engines.py [--rows 32] [--k 4] [--json FILE] [--model NAME] [--generator NAME]
        [--configs transformers:float32,transformers:bfloat16,openvino:auto]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from bench_generate_filter import matmul_gflops, outputs  # the same outputs and ceiling as that benchmark

from hf_david.models import DEFAULT_MODEL, load_model, resolve_model, score_pairs
from hf_david.models.engines import _ENGINES, openvino_available
from hf_david.stages.generate import GenerateConfig, GenerateInstructions

CPU_CONFIGS = [
    ("transformers", "float32"),
    ("transformers", "bfloat16"),
    ("openvino", "auto"),
    ("openvino", "float32"),
    ("openvino+prefix-cache", "auto"),  # not reproducible run to run (openvino_engine.py), so not an option
]


def decode_ceiling(params: int, kv_bytes_per_seq: int, seqs: int, bytes_per_param: int, bandwidth: float, flops: float):
    """Seconds per decode step at the hardware limit: memory traffic or arithmetic, whichever is larger."""
    memory = (params * bytes_per_param + kv_bytes_per_seq * seqs) / bandwidth
    compute = 2 * params * seqs / flops
    return max(memory, compute)


def run_one(args, engine: str, dtype: str) -> dict:
    """One engine configuration: generate, score the shared candidates, report (in this process)."""
    texts = outputs(args.rows, args.passages)
    result: dict = {"engine": engine, "dtype": dtype, "device": args.device}  # before the alias below
    if engine == "openvino+prefix-cache":
        from hf_david.models.openvino_engine import OpenVINOEngine

        engine, name = "openvino", args.generator
        _ENGINES[(engine, name, None, dtype, "cpu")] = OpenVINOEngine(name, None, dtype, "cpu", prefix_caching=True)
    config = GenerateConfig(
        model=args.model,
        generator=args.generator,
        engine=engine,
        dtype=dtype,
        device=args.device,
        k=args.k,
        max_new_tokens=args.max_new_tokens,
        generate_batch_size=args.rows,
    )
    stage = GenerateInstructions(config)
    stage({"output": texts[:2]})  # load and warm up
    stage.pop_stats()
    out = stage({"output": texts})
    stats = stage.pop_stats()
    result["generate_tok_s"] = stats.tokens / stats.seconds
    result["candidates"] = out["candidates"]
    pairs = (
        json.loads(args.pairs.read_text())
        if args.pairs
        else [[c, t] for cs, t in zip(out["candidates"], texts, strict=True) for c in cs]
    )
    options = dict(model=args.model, engine=engine, dtype=dtype, device=args.device, batch_size=8)
    score_pairs([p[0] for p in pairs[:8]], [p[1] for p in pairs[:8]], **options)  # warm up
    start = time.perf_counter()
    ppls, tokens = score_pairs([p[0] for p in pairs], [p[1] for p in pairs], **options)
    seconds = time.perf_counter() - start
    result.update(score_tok_s=tokens / seconds, nlls=[math.log(p) for p in ppls], pairs=pairs)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    params = sum(p.numel() for p in load_model(args.model)[0].parameters())
    result["score_gflop_s"] = 2 * params * tokens / seconds / 1e9
    return result


def agreement(reference: dict, other: dict) -> dict:
    """NLL mean absolute difference and argmin agreement over the rows, on the same candidates."""
    mad = sum(abs(a - b) for a, b in zip(reference["nlls"], other["nlls"], strict=True)) / len(other["nlls"])
    rows, start, same = 0, 0, 0
    for cands in reference["candidates"]:
        n = len(cands)
        if n > 1:
            a, b = reference["nlls"][start : start + n], other["nlls"][start : start + n]
            same += a.index(min(a)) == b.index(min(b))
            rows += 1
        start += n
    return {"nll_mad": mad, "argmin_agreement": same / max(rows, 1), "argmin_rows": rows}


def export_seconds(model: str) -> float:
    """Wall time of a fresh OpenVINO export of `model` (into a throwaway cache)."""
    from hf_david.models.openvino_export import export_openvino

    source = resolve_model(model)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["HF_DAVID_CACHE"] = cache
        start = time.perf_counter()
        export_openvino(source)
        seconds = time.perf_counter() - start
    del os.environ["HF_DAVID_CACHE"]
    return round(seconds, 1)


def run_subprocess(args, engine: str, dtype: str, pairs: Path | None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, __file__, "--one", f"{engine}:{dtype}", "--result", out.name]
        command += sys.argv[1:] + (["--pairs", str(pairs)] if pairs else [])
        subprocess.run(command, check=True)
        return json.loads(Path(out.name).read_text())


def table(results: list[dict], ceilings: dict) -> list[dict]:
    """One summary row per configuration, with ratios to both transformers configurations."""
    base = {r["dtype"]: r for r in results if r["engine"] == "transformers"}
    rows = []
    for r in results:
        row = {k: r[k] for k in ("engine", "dtype", "device", "generate_tok_s", "score_tok_s", "peak_rss_mb")}
        for name, b in base.items():
            row[f"generate_x_transformers_{name}"] = r["generate_tok_s"] / b["generate_tok_s"]
            row[f"score_x_transformers_{name}"] = r["score_tok_s"] / b["score_tok_s"]
        row["score_gflop_s"] = r["score_gflop_s"]
        row["score_fraction_of_faster_ceiling"] = r["score_gflop_s"] / max(ceilings.values())
        row.update(agreement(results[0], r), export_seconds=r.get("export_seconds"))
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the scorer, and the generator's base")
    parser.add_argument(
        "--generator", help="the model that samples the candidates; unset: the pipeline's default for --model"
    )
    parser.add_argument(
        "--configs",
        type=lambda s: [tuple(c.split(":")) for c in s.split(",")],
        help="engine:dtype,... to run, the transformers:float32 reference first; unset: every one available",
    )
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--passages", type=Path)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pairs", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.generator = args.generator or GenerateConfig(model=args.model).generator_model
    if args.one:
        args.result.write_text(json.dumps(run_one(args, *args.one.split(":"))))
        return
    configs = CPU_CONFIGS if args.device == "cpu" else [("transformers", "float32"), ("transformers", "bfloat16")]
    configs = [c for c in args.configs or configs if not c[0].startswith("openvino") or openvino_available()]
    if configs[0] != ("transformers", "float32"):
        parser.error("--configs must start with the reference, transformers:float32")
    print(f"generator {args.generator}, scorer {args.model}")
    ceilings = {"float32": matmul_gflops(torch.float32), "bfloat16": matmul_gflops(torch.bfloat16)}
    print(f"matmul ceiling GFLOP/s: fp32 {ceilings['float32']:.0f}, bf16 {ceilings['bfloat16']:.0f}")
    results = [run_subprocess(args, *configs[0], None)]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as pairs:
        json.dump(results[0]["pairs"], pairs)
        pairs.flush()
        results += [run_subprocess(args, engine, dtype, Path(pairs.name)) for engine, dtype in configs[1:]]
    if any(engine.startswith("openvino") for engine, _ in configs):
        seconds = export_seconds(args.generator)
        for r in results:
            r["export_seconds"] = seconds if r["engine"].startswith("openvino") else None
    rows = table(results, ceilings)
    for row in rows:
        print(
            f"{row['engine']:<12} {row['dtype']:<8} generate {row['generate_tok_s']:7.1f} tok/s "
            f"(x{row['generate_x_transformers_float32']:.2f} fp32, x{row['generate_x_transformers_bfloat16']:.2f} bf16)"
            f"  score {row['score_tok_s']:7.1f} tok/s ({row['score_fraction_of_faster_ceiling']:.0%} of ceiling)"
            f"  NLL MAD {row['nll_mad']:.4f}  argmin {row['argmin_agreement']:.1%} of {row['argmin_rows']}"
            f"  RSS {row['peak_rss_mb']:.0f} MB  export {row['export_seconds']} s"
        )
    if args.json:
        report = {"args": {k: str(v) for k, v in vars(args).items()}, "ceilings_gflop_s": ceilings, "rows": rows}
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
