"""The `hf-david` command line: `hf-david COMMAND [options]`, one module per command.

Each command module has `run(command, argv) -> exit code` and parses its own options (`hf_david.cli.common`).
Modules are imported only for the command that runs, so `hf-david --help` stays fast.
"""

from __future__ import annotations

import importlib
import sys

from hf_david.cli.common import COMMANDS


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
