from __future__ import annotations

import argparse
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


def _run_push(args: argparse.Namespace) -> int:
    from hf_david.publish.hub import push

    result = push(Path(args.folder), args.repo_id, private=args.private, token=args.token)
    print(f"Pushed {result.kind} {args.folder} to {result.url} (commit {result.commit[:8]})")
    return 0


def _add_push(sub) -> None:
    p = sub.add_parser("push", help="publish a generated dataset or a model folder to the Hub, with its card")
    p.add_argument("folder", help="an `hf-david generate --out` folder or a model folder (auto-detected)")
    p.add_argument("repo_id", help="user/name on the Hub, or name for your namespace (created if missing)")
    p.add_argument("--private", action="store_true", help="make a new repo private (existing: unchanged)")
    p.add_argument("--token", default=None, help="Hub write token (default: HF_TOKEN or `hf auth login`)")
    p.set_defaults(func=_run_push)


def _run_pull(args: argparse.Namespace) -> int:
    from hf_david.publish.hub import pull_dataset

    data = pull_dataset(args.repo_id, revision=args.revision, token=args.token)
    data.save_to_disk(args.out)
    sizes = ", ".join(f"{split}: {len(rows)} rows" for split, rows in data.items())
    print(f"Pulled {args.repo_id} ({sizes}) to {args.out}")
    return 0


def _add_pull(sub) -> None:
    p = sub.add_parser("pull", help="download a published hf_david dataset (train + rejects) to a folder")
    p.add_argument("repo_id", help="user/name of a dataset pushed with `hf-david push`")
    p.add_argument("out", help="folder to save it to (readable with datasets.load_from_disk)")
    p.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    p.add_argument("--token", default=None, help="Hub token, for private repos")
    p.set_defaults(func=_run_pull)


def run(command: str, argv: list[str]) -> int:
    return _dispatch(
        (
            _add_push,
            _add_pull,
        ),
        command,
        argv,
    )
