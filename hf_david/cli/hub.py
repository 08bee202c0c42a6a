"""`hf-david push FOLDER REPO_ID` and `hf-david pull REPO_ID OUT`: the Hub commands.

Both take positional arguments, which the dataclass-generated parsers of the other commands do not
express, so each has a small argparse parser. The work is done by `hf_david.publish.hub`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hf_david.cli.common import description

TOKEN_HELP = {
    "push": "Hub write token (default: HF_TOKEN or `hf auth login`)",
    "pull": "Hub token, for private repos",
}


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"hf-david {command}", description=description(command))
    if command == "push":
        parser.add_argument("folder", help="an `hf-david generate --out` folder or a model folder (auto-detected)")
        parser.add_argument("repo_id", help="user/name on the Hub, or name for your namespace (created if missing)")
        parser.add_argument("--private", action="store_true", help="make a new repo private (existing: unchanged)")
    else:
        parser.add_argument("repo_id", help="user/name of a dataset pushed with `hf-david push`")
        parser.add_argument("out", help="folder to save it to (readable with datasets.load_from_disk)")
        parser.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    parser.add_argument("--token", default=None, help=TOKEN_HELP[command])
    return parser


def _push(args: argparse.Namespace) -> int:
    """Publish a job or model folder; prints the repo URL and the commit."""
    from hf_david.publish.hub import push

    result = push(Path(args.folder), args.repo_id, private=args.private, token=args.token)
    print(f"Pushed {result.kind} {args.folder} to {result.url} (commit {result.commit[:8]})")
    return 0


def _pull(args: argparse.Namespace) -> int:
    """Download a published dataset (train + rejects) and save it with `save_to_disk`."""
    from hf_david.publish.hub import pull_dataset

    data = pull_dataset(args.repo_id, revision=args.revision, token=args.token)
    data.save_to_disk(args.out)
    sizes = ", ".join(f"{split}: {len(rows)} rows" for split, rows in data.items())
    print(f"Pulled {args.repo_id} ({sizes}) to {args.out}")
    return 0


def run(command: str, argv: list[str]) -> int:
    """Entry point used by `hf_david.cli.main` for `push` and `pull`."""
    args = _parser(command).parse_args(argv)
    return {"push": _push, "pull": _pull}[command](args)
