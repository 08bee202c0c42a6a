"""`hf-david replicate`: run the replication experiments E0-E3 (options from `ReplicateConfig`) and print
where the report is. Exit 2 with a one-line error on bad input; re-running resumes."""

from __future__ import annotations

from hf_david.artifacts import command_line
from hf_david.cli.common import fail, parse


def run(command: str, argv: list[str]) -> int:
    from hf_david.job import JobError
    from hf_david.replicate import ReplicateConfig, replicate

    try:
        (config,) = parse(command, (ReplicateConfig,), argv)
        replicate(config, command=command_line([command, *argv]))
    except (JobError, ValueError, FileNotFoundError) as err:
        return fail(command, err)
    except KeyboardInterrupt:
        print(f"\nInterrupted. Finished experiments and job shards are kept: re-run the same command ({config.out}).")
        return 130
    print(f"wrote {config.out}/replication.md and {config.out}/results.json")
    return 0
