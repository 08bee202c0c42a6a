"""`hf-david evaluate`: options generated from `EvalConfig` (plus `--out`) by `trl.TrlParser`.

Reads the benchmark (packaged SuperNI subset / Dolly held-out rows, or the LongForm Hub id, unless `--data`
says otherwise), writes predictions.jsonl, metrics.json (with the command line) and results.md to `--out`,
and prints the results table. Exit code 2 with a one-line error for missing or malformed data.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from hf_david.artifacts import command_line

HELP = "generate on a benchmark and score it like the official scorers"
EPILOG = "--config FILE.yaml sets any of these options from a YAML mapping; the command line overrides it."


@dataclass
class OutputArgs:
    """Where the run's files go: kept out of `EvalConfig`, which says what was evaluated (metrics.json `config`)."""

    out: str | None = field(default=None, metadata={"help": "output folder; unset: hf_david_eval/BENCHMARK/MODEL"})


def run(command: str, argv: list[str]) -> int:
    from trl import TrlParser

    from hf_david.evaluation import EvalConfig, evaluate_model

    parser = TrlParser((EvalConfig, OutputArgs), prog=f"hf-david {command}", description=HELP, epilog=EPILOG)
    try:
        config, output = parser.parse_args_and_config(argv)
        out = output.out or str(Path("hf_david_eval") / config.benchmark / Path(config.model.rstrip("/")).name)
        result = evaluate_model(config, out, command=command_line([command, *argv]))
    except (FileNotFoundError, ValueError) as err:  # missing or malformed benchmark data, bad options
        print(f"hf-david {command}: error: {err}", file=sys.stderr)
        return 2
    print((Path(out) / "results.md").read_text())
    print(f"{result['instances']} instances in {result['seconds']['total']} s; wrote {out}/")
    return 0
