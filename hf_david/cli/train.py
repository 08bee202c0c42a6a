"""`hf-david train-generator` and `hf-david train`: options generated from the recipe configs by `trl.TrlParser`.

Every `GeneratorConfig`/`FollowingConfig` field is an option (`--seed_data` or `--seed-data`), `--config
FILE.yaml` supplies any of them, and options on the command line override the file. Bad input (a missing
file, an unknown column or option, checkpoints left without `--resume`) exits with status 2 and one line.
"""

from __future__ import annotations

import argparse
import sys

from trl import TrlParser

from hf_david.artifacts import command_line
from hf_david.train import FollowingConfig, GeneratorConfig, train

CONFIGS = {
    "train-generator": (GeneratorConfig, "SFT an instruction generator on flipped pairs (output -> instruction)."),
    "train": (FollowingConfig, "SFT the instruction-following model on seed plus generated data."),
}


def parser(command: str) -> TrlParser:
    """The `TrlParser` of one training command (also used by the tests to parse recipe files)."""
    config_cls, description = CONFIGS[command]
    p = TrlParser(
        config_cls,
        prog=f"hf-david {command}",
        usage="%(prog)s --output_dir DIR [--config FILE.yaml] [--OPTION VALUE ...]",
        description=description + " Options on the command line override those in --config.",
    )
    # Only for --help: TrlParser takes `--config FILE` out of argv before parsing.
    p.add_argument("--config", metavar="FILE.yaml", default=argparse.SUPPRESS, help="YAML file of options")
    return p


def run(command: str, argv: list[str]) -> int:
    """Parse the options, train, print the model folder; 2 and a one-line message on bad input."""
    # TrlParser reads `--config FILE` only as two words.
    args = [part for arg in argv for part in (arg.split("=", 1) if arg.startswith("--config=") else [arg])]
    try:
        (config,) = parser(command).parse_args_and_config(args)
        out = train(config, command=command_line([command, *argv]))
    except SystemExit as stop:  # from argparse: --help (0), or its usage line and error (2)
        return stop.code or 0
    except (ValueError, KeyError, FileExistsError, FileNotFoundError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"hf-david {command}: error: {message}", file=sys.stderr)
        return 2
    print(out)
    return 0
