from __future__ import annotations

import argparse
import sys
from pathlib import Path


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


def _run_evaluate(args: argparse.Namespace) -> int:
    from hf_david.evaluation import EvalConfig, evaluate_model

    out = args.out or str(Path("hf_david_eval") / args.benchmark / Path(args.model.rstrip("/")).name)
    try:
        config = EvalConfig(
            model=args.model,
            benchmark=args.benchmark,
            data=args.data,
            max_instances=args.max_instances,
            batch_size=args.batch_size,
            max_new_tokens=args.max_new_tokens,
            prompt_setting=args.prompt_setting,
            max_prompt_tokens=args.max_prompt_tokens,
            revision=args.revision,
        )
        result = evaluate_model(config, out)
    except (FileNotFoundError, ValueError) as err:  # missing or malformed benchmark data, bad options
        print(f"hf-david evaluate: error: {err}", file=sys.stderr)
        return 2
    print((Path(out) / "results.md").read_text())
    print(f"{result['instances']} instances in {result['seconds']['total']} s; wrote {out}/")
    return 0


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="generate on a benchmark and score it like the official scorers")
    p.add_argument("--model", required=True, help="model alias, Hub id or local folder")
    p.add_argument("--benchmark", choices=("superni", "longform", "dolly-heldout"), default="superni")
    p.add_argument(
        "--data",
        default=None,
        help="SuperNI: folder/jsonl/natural-instructions clone (default ../shared/data/superni); "
        "LongForm: file/folder/Hub id (default akoksal/LongForm); dolly-heldout: shared data folder or jsonl",
    )
    p.add_argument("--max-instances", type=int, default=None, help="at most N, round-robin by task/source")
    p.add_argument("--out", default=None, help="output folder (default hf_david_eval/BENCHMARK/MODEL)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-new-tokens", type=int, default=None, help="default 128 for superni, 256 otherwise")
    p.add_argument("--prompt-setting", choices=("def", "def+2pos"), default="def+2pos", help="SuperNI prompt")
    p.add_argument("--max-prompt-tokens", type=int, default=1024, help="truncate prompts (Tk-Instruct: 1024)")
    p.add_argument("--revision", default=None, help="model revision (Hub models)")
    p.set_defaults(func=_run_evaluate)


def run(command: str, argv: list[str]) -> int:
    return _dispatch((_add_evaluate,), command, argv)
