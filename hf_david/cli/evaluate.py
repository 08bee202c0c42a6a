"""`hf-david evaluate`: options from `EvalConfig` (plus `--out`).

Reads the benchmark (packaged SuperNI subset / Dolly held-out rows, or the LongForm Hub id, unless `--data`
says otherwise), writes predictions.jsonl, metrics.json (with the command line) and results.md to `--out`,
and prints the results table. Exit code 2 with a one-line error for missing or malformed data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transformers.hf_argparser import HfArg

from hf_david.artifacts import command_line
from hf_david.cli.common import fail, parse


@dataclass
class OutputArgs:
    """Where the run's files go: kept out of `EvalConfig`, which says what was evaluated (metrics.json `config`)."""

    out: str | None = HfArg(default=None, help="output folder; unset: hf_david_eval/BENCHMARK/MODEL")


def run(command: str, argv: list[str]) -> int:
    from hf_david.evaluation import EvalConfig, evaluate_model

    try:
        config, output = parse(command, (EvalConfig, OutputArgs), argv)
        out = output.out or str(Path("hf_david_eval") / config.benchmark / Path(config.model.rstrip("/")).name)
        result = evaluate_model(config, out, command=command_line([command, *argv]))
    except (FileNotFoundError, ValueError) as err:  # missing or malformed benchmark data, bad options
        return fail(command, err)
    print((Path(out) / "results.md").read_text())
    print(f"{result['instances']} instances in {result['seconds']['total']} s; wrote {out}/")
    return 0
