"""Which `keywords` rows are coherent: the passage shown as `input` (the instruction asks for its key phrases),
or no input (the instruction must ask for terms the bare list answers)? Issue 10 asks to pick by measurement.

Runs `hf-david generate --levels keywords` twice on the same passages, with `--keywords_with_passage true`
and `false`, and reports per setting: rows kept, the median IFD and the share with IFD < 1 (the filter's
IFD: PPL(output | instruction [+ input]) / PPL(output | empty turn)), and, for the setting with the
passage, how much the *instruction* adds beyond the passage: PPL(output | instruction + passage) /
PPL(output | passage alone). Prints 8 rows of each setting (the first 8, not chosen).

Usage:
  python benchmarks/keywords_input.py --corpus PASSAGES.jsonl --passages 24 --out runs/keywords --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from datasets import load_from_disk

from hf_david.models import DEFAULT_MODEL, score_outputs


def run(corpus: str, passages: int, out: Path, with_passage: bool) -> list[dict]:
    folder = out / ("with-passage" if with_passage else "no-input")
    command = [
        sys.executable, "-m", "hf_david.cli", "generate", "--corpus", corpus, "--levels", "keywords",
        "--max_passages", str(passages), "--keywords_with_passage", str(with_passage).lower(), "--out", str(folder),
        "--max_reject_rate", "1",
    ]  # fmt: skip
    subprocess.run(command, check=True)
    return list(load_from_disk(str(folder))["train"])


def summary(rows: list[dict]) -> dict:
    ifd = [r["ifd"] for r in rows]
    return {
        "rows": len(rows),
        "median_ifd": statistics.median(ifd) if ifd else None,
        "ifd_below_1": sum(v < 1 for v in ifd) / len(ifd) if ifd else None,
        "examples": [{"instruction": r["instruction"], "output": r["output"], "ifd": r["ifd"]} for r in rows[:8]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help="jsonl of passages (`text`)")
    parser.add_argument("--passages", type=int, default=24)
    parser.add_argument("--out", default="runs/keywords")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    out = Path(args.out)
    results = {}
    for with_passage in (True, False):
        rows = run(args.corpus, args.passages, out, with_passage)
        results["with passage" if with_passage else "no input"] = summary(rows)
        if with_passage and rows:
            outputs, inputs = [r["output"] for r in rows], [r["input"] for r in rows]
            given = score_outputs([r["instruction"] for r in rows], outputs, inputs)
            alone = score_outputs([""] * len(rows), outputs, inputs)
            gain = [g / a for g, a in zip(given, alone, strict=True)]
            results["with passage"]["median_ppl_ratio_instruction_over_passage_alone"] = statistics.median(gain)
            results["with passage"]["instruction_helps_beyond_passage"] = sum(v < 1 for v in gain) / len(gain)
    results["scorer"] = DEFAULT_MODEL
    for name, r in results.items():
        if isinstance(r, dict):
            print(f"{name}: {r['rows']} rows, median IFD {r['median_ifd']}, IFD < 1: {r['ifd_below_1']}")
            for e in r["examples"]:
                print(f"   [{e['ifd']:.3f}] {e['instruction']!r} -> {e['output'][:100]!r}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
