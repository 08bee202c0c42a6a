"""The `hf-david` command line: one subcommand per job, each a thin layer over the library."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hf-david", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    # One `_add_<command>` per subcommand; each sets `func` on its parser.
    for add in ():
        add(sub)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
