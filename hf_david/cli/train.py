from __future__ import annotations

import argparse
import sys


class _Sub:
    """Adapter: the old `sub.add_parser` calls build this command's own parser."""

    def __init__(self, command: str) -> None:
        self.command, self.parsers = command, {}

    def add_parser(self, name: str, help: str = ""):
        self.parsers[name] = argparse.ArgumentParser(prog=f"hf-david {name}", description=help)
        return self.parsers[name]


def _dispatch(adders, command: str, argv: list[str]) -> int:
    sub = _Sub(command)
    for add in adders:
        add(sub)
    args = sub.parsers[command].parse_args(argv)
    args.command = command
    return args.func(args) or 0


def _run_train(args: argparse.Namespace) -> int:
    from hf_david.train import FollowingConfig, GeneratorConfig, command_line, config_from_args, train

    config_cls = GeneratorConfig if args.command == "train-generator" else FollowingConfig
    try:
        config = config_from_args(config_cls, args)
        out = train(config, command=command_line(args))
    except (ValueError, KeyError, FileExistsError, FileNotFoundError) as err:
        print(f"hf-david {args.command}: {err}", file=sys.stderr)
        return 2
    print(out)
    return 0


def _add_train_generator(sub) -> None:
    from hf_david.train import GeneratorConfig, add_config_arguments

    p = sub.add_parser("train-generator", help="SFT an instruction generator on flipped pairs (output -> instruction)")
    add_config_arguments(p, GeneratorConfig)
    p.set_defaults(func=_run_train)


def _add_train(sub) -> None:
    from hf_david.train import FollowingConfig, add_config_arguments

    p = sub.add_parser("train", help="SFT the instruction-following model on seed plus generated data")
    add_config_arguments(p, FollowingConfig)
    p.set_defaults(func=_run_train)


def run(command: str, argv: list[str]) -> int:
    return _dispatch(
        (
            _add_train_generator,
            _add_train,
        ),
        command,
        argv,
    )
