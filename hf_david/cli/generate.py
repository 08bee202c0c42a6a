"""`hf-david generate`: run the extract-then-generate job, in this process or on Ray (`--ray [ADDRESS]`);
every option is a field of `JobConfig` (or of `RunOptions`, `RayOptions`). Prints the counts, per-stage
stats and a few rows; exit 2 on bad input, 130 when interrupted (finished shards are kept)."""

from __future__ import annotations

from dataclasses import dataclass

from transformers.hf_argparser import HfArg

from hf_david.artifacts import command_line
from hf_david.cli.common import fail, parse
from hf_david.job import Job, JobConfig, JobError
from hf_david.ray import RayJob, RayOptions


@dataclass
class RunOptions:
    """Where the job writes, and whether to discard what is there (not part of the job's config hash)."""

    out: str = HfArg(default="out/generate", help="job folder (datasets.load_from_disk reads it)")
    overwrite: bool = HfArg(default=False, help="discard an existing job in --out and start afresh")


def summary(manifest: dict, data) -> str:
    """What a generate job produced: counts, rejects, per-stage stats and a few rows."""
    counts = manifest["counts"]
    lines = [
        f"{counts['passages']} passages -> {counts['train']} train rows, {counts['rejects']} rejects",
        f"levels: {counts['levels']}",
        f"rejects by reason: {counts['rejects_by_reason']}",
        f"engine: {manifest['config'].get('engine')} on {manifest['config'].get('device')}",
        "stage     rows in  rows out   tokens  tokens/s  seconds",
    ]
    for name, st in manifest["stats"].items():
        lines.append(
            f"{name:<8} {st['rows_in']:>8} {st['rows_out']:>9} {st['tokens']:>8} "
            f"{st['tokens_per_second']:>9} {st['seconds']:>8}"
        )
    for row in data["train"].select(range(min(3, len(data["train"])))):
        lines += ["", f"[{row['level']}] instruction: {row['instruction']}", f"  output: {row['output'][:200]}"]
    return "\n".join(lines)


def run(command: str, argv: list[str]) -> int:
    options = RunOptions()
    try:
        config, options, on_ray = parse(command, (JobConfig, RunOptions, RayOptions), argv)
        where = {"overwrite": options.overwrite, "command": command_line([command, *argv])}
        job = Job(config, options.out, **where) if on_ray.ray is None else RayJob(config, options.out, on_ray, **where)
        data = job.run()
    except (JobError, ValueError, FileNotFoundError) as err:
        return fail(command, err)
    except KeyboardInterrupt:
        print(f"\nInterrupted. Finished shards are kept: re-run the same command to resume ({options.out}).")
        return 130
    print(summary(job.manifest, data))
    return 0
