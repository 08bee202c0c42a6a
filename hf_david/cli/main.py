"""The `hf-david` command line: `hf-david COMMAND [options]`, one module per command.

Each command module has `run(command, argv) -> exit code` and parses its own options, generated from the
library's config dataclasses (`trl.TrlParser`, so every command also takes `--config file.yaml`). Modules
are imported only for the command that runs, so `hf-david --help` stays fast.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "generate": ("hf_david.cli.generate", "make instruction data from unlabeled passages (extract-then-generate)"),
    "train-generator": ("hf_david.cli.train", "SFT an instruction generator on flipped pairs (output -> instruction)"),
    "train": ("hf_david.cli.train", "SFT the instruction-following model on seed plus generated data"),
    "evaluate": ("hf_david.cli.evaluate", "generate on a benchmark and score it like the official scorers"),
    "push": ("hf_david.cli.hub", "publish a generated dataset or a model folder to the Hub, with its card"),
    "pull": ("hf_david.cli.hub", "download a published hf_david dataset (train + rejects) to a folder"),
}


def usage() -> str:
    lines = ["usage: hf-david COMMAND [options]   (hf-david COMMAND --help for its options)", "", "commands:"]
    lines += [f"  {name:<16} {help_text}" for name, (_, help_text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"hf-david: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    return module.run(command, rest) or 0


if __name__ == "__main__":
    sys.exit(main())
