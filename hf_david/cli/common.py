"""What every `hf-david` command shares: the command list, the option parser, and how a command fails.

Options come from the config dataclasses through `trl.TrlParser` (a `transformers.HfArgumentParser`), so
a field's default and help are written once, `--dashes` and `--under_scores` both work, and `--config
FILE.yaml` sets any option (the command line overrides the file).
"""

from __future__ import annotations

import argparse
import sys

COMMANDS = {  # name: (module, one-line description)
    "generate": ("hf_david.cli.generate", "make instruction data from unlabeled passages (extract-then-generate)"),
    "train-generator": ("hf_david.cli.train", "SFT an instruction generator on flipped pairs (output -> instruction)"),
    "train": ("hf_david.cli.train", "SFT the instruction-following model on seed plus generated data"),
    "evaluate": ("hf_david.cli.evaluate", "generate on a benchmark and score it like the official scorers"),
    "replicate": ("hf_david.cli.replicate", "run the replication experiments E0-E3 (docs/replication.md)"),
    "push": ("hf_david.cli.hub", "publish a generated dataset or a model folder to the Hub, with its card"),
    "pull": ("hf_david.cli.hub", "download a published hf_david dataset (train + rejects) to a folder"),
}


def description(command: str) -> str:
    return COMMANDS[command][1]


def parse(command: str, dataclass_types: tuple, argv: list[str]) -> tuple:
    """The command's config dataclasses, from `--config FILE.yaml` (or `--config=FILE.yaml`) and argv."""
    from trl import TrlParser

    parser = TrlParser(dataclass_types, prog=f"hf-david {command}", description=description(command))
    # Listed for --help only: TrlParser itself takes `--config FILE` out of argv before parsing.
    parser.add_argument("--config", metavar="FILE.yaml", default=argparse.SUPPRESS, help="YAML file of options")
    args = [part for arg in argv for part in (arg.split("=", 1) if arg.startswith("--config=") else [arg])]
    return parser.parse_args_and_config(args)


def fail(command: str, err: BaseException) -> int:
    """One line on stderr, exit status 2: bad input is the user's to fix, so no traceback."""
    message = err.args[0] if isinstance(err, KeyError) and err.args else err
    print(f"hf-david {command}: error: {message}", file=sys.stderr)
    return 2
