"""`hf-david train-generator` and `hf-david train`: options from the recipe configs (`trl.SFTConfig` subclasses).

Every `GeneratorConfig`/`FollowingConfig` field is an option, and `--config recipe.yaml` supplies any of
them. Bad input (a missing file, an unknown column or option, checkpoints left without `--resume`) exits
with status 2 and one line.
"""

from __future__ import annotations

from hf_david.artifacts import command_line
from hf_david.cli.common import fail, parse


def configs() -> dict[str, type]:
    from hf_david.train import FollowingConfig, GeneratorConfig

    return {"train-generator": GeneratorConfig, "train": FollowingConfig}


def run(command: str, argv: list[str]) -> int:
    """Parse the options, train, print the model folder."""
    from hf_david.train import train

    try:
        (config,) = parse(command, (configs()[command],), argv)
        out = train(config, command=command_line([command, *argv]))
    except SystemExit as stop:  # from argparse: --help (0), or its usage line and error (2)
        return stop.code or 0
    except (ValueError, KeyError, FileExistsError, FileNotFoundError) as err:
        return fail(command, err)
    print(out)
    return 0
