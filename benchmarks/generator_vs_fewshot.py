"""Trained instruction generator vs the untrained few-shot default, on held-out Dolly rows 6200-6399.

For each held-out (instruction, response) pair, each generator writes an instruction for the response
through the real generation transform (`GenerateInstructions`, k candidates, the first usable one kept;
few-shot demos only for the untrained model). Two measures:

* ROUGE-L F (rouge_score, use_stemmer=True) between the generated and the true instruction;
* perplexity of the true response given the generated instruction, under one fixed scorer
  (`hf_david.models.score_outputs`, default: the untrained embedded model). The true instruction's
  perplexity is reported as a reference point.

The rows are the Dolly held-out rows packaged with the repository (`--dolly` default:
dataset_scripts/data/dolly_heldout/dolly15k_rows6200-6399.jsonl); `--dolly` takes any other copy of Dolly
(a jsonl or the Hub id), of which only rows 6200-6399 are used.

Usage:
  python benchmarks/generator_vs_fewshot.py run --generator smollm2-135m-instruct --name few-shot \
      --with-reference --out fewshot.json
  python benchmarks/generator_vs_fewshot.py run --generator runs/generator --name trained --out trained.json
  python benchmarks/generator_vs_fewshot.py compare trained.json fewshot.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

from datasets import Dataset
from rouge_score import rouge_scorer

from dataset_scripts.longform import PACKAGED_DOLLY_HELDOUT
from dataset_scripts.seed import load_dolly, split_heldout
from hf_david.models import DEFAULT_MODEL, score_outputs
from hf_david.stages.generate import GenerateConfig, GenerateInstructions


def generate(model: str, rows: Dataset, k: int, seed: int) -> tuple[list[str], float]:
    """One instruction per row (the first usable of k sampled candidates, "" if none) and the wall time."""
    start = time.perf_counter()
    transform = GenerateInstructions(GenerateConfig(model=model, k=k, seed=seed))
    out = rows.map(
        transform, batched=True, batch_size=16, load_from_cache_file=False, desc=f"generating with {Path(model).name}"
    )
    return [c[0] if c else "" for c in out["candidates"]], time.perf_counter() - start


def summarize(name: str, generated: list[str], rows: Dataset, scorer: str) -> dict:
    rouge = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    rl = [
        rouge.score(target=gold, prediction=pred)["rougeL"].fmeasure
        for gold, pred in zip(rows["instruction"], generated, strict=True)
    ]
    usable = [i for i, g in enumerate(generated) if g]
    ppl = score_outputs([generated[i] for i in usable], [rows["output"][i] for i in usable], model=scorer)
    finite = [p for p in ppl if math.isfinite(p)]
    return {
        "generator": name,
        "rows": len(rows),
        "usable_instructions": len(usable),
        "rougeL_mean": 100 * statistics.mean(rl),
        "ppl_rows": len(finite),
        "ppl_mean": statistics.mean(finite) if finite else None,
        "ppl_median": statistics.median(finite) if finite else None,
        "ppl_per_row": dict(zip(usable, ppl, strict=True)),
        "examples": [{"true": rows["instruction"][i], "generated": generated[i]} for i in range(min(5, len(rows)))],
    }


def run(args: argparse.Namespace) -> None:
    _, held = split_heldout(load_dolly(args.dolly))
    rows = held.select(range(min(args.rows, len(held)))).rename_column("input", "context")
    generated, seconds = generate(args.generator, rows, args.k, args.seed)
    start = time.perf_counter()
    result = summarize(args.name, generated, rows, args.scorer)
    result.update(
        model=args.generator,
        k=args.k,
        seed=args.seed,
        scorer=args.scorer,
        generation_seconds=round(seconds, 1),
        held_out_rows=f"dolly_row {rows['dolly_row'][0]}-{rows['dolly_row'][-1]}",
    )
    if args.with_reference:
        reference = [
            p for p in score_outputs(rows["instruction"], rows["output"], model=args.scorer) if math.isfinite(p)
        ]
        result.update(
            true_instruction_ppl_mean=statistics.mean(reference),
            true_instruction_ppl_median=statistics.median(reference),
        )
    result["scoring_seconds"] = round(time.perf_counter() - start, 1)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{args.name}: ROUGE-L {result['rougeL_mean']:.2f}  ppl mean {result['ppl_mean']} "
        f"median {result['ppl_median']}  usable {result['usable_instructions']}/{result['rows']}"
    )


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def compare(args: argparse.Namespace) -> None:
    """Each run's own numbers, then the perplexities on the rows where both runs produced an instruction."""
    a, b = (json.loads(Path(f).read_text()) for f in (args.first, args.second))
    both = sorted(set(a["ppl_per_row"]) & set(b["ppl_per_row"]), key=int)
    print("| generator | ROUGE-L | usable | ppl mean | ppl median | paired ppl median | paired ppl geo-mean |")
    print("|---|---|---|---|---|---|---|")
    for r in (a, b):
        paired = [r["ppl_per_row"][i] for i in both if math.isfinite(r["ppl_per_row"][i])]
        geo = math.exp(statistics.mean(math.log(p) for p in paired)) if paired else None
        median = statistics.median(paired) if paired else None
        print(
            f"| {r['generator']} | {r['rougeL_mean']:.2f} | {r['usable_instructions']}/{r['rows']} | "
            f"{_num(r['ppl_mean'])} | {_num(r['ppl_median'])} | {_num(median)} | {_num(geo)} |"
        )
    wins = sum(a["ppl_per_row"][i] < b["ppl_per_row"][i] for i in both)
    print(f"{a['generator']} has the lower perplexity on {wins}/{len(both)} rows scored for both")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run", help="generate with one generator on the held-out rows and score it")
    p.add_argument("--generator", required=True, help="a `hf-david train-generator` dir, or the untrained default")
    p.add_argument("--name", required=True, help="label for the results, e.g. trained / few-shot")
    p.add_argument("--scorer", default=DEFAULT_MODEL, help="LM that scores the perplexity of the output")
    p.add_argument(
        "--dolly", default=str(PACKAGED_DOLLY_HELDOUT), help="Dolly jsonl or Hub id (default: packaged held-out rows)"
    )
    p.add_argument("--rows", type=int, default=200, help="how many held-out rows (from row 6200 on)")
    p.add_argument("--k", type=int, default=1, help="candidates sampled per row (the first usable one is kept)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--with-reference", action="store_true", help="also score the true instructions")
    p.add_argument("--out", required=True, help="JSON file for the results")
    p.set_defaults(func=run)
    c = sub.add_parser("compare", help="table of two `run` results and the paired perplexity win rate")
    c.add_argument("first")
    c.add_argument("second")
    c.set_defaults(func=compare)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
