"""The settings of a job run on Ray: which cluster, and each stage's actor pool. None of them changes the
output, so they are not part of the job's config hash: a job started locally can resume on Ray, and back."""

from __future__ import annotations

import math
from dataclasses import dataclass

from transformers.hf_argparser import HfArg

PER_STAGE = "VALUE for every stage and/or STAGE=VALUE for one (e.g. `1 generate=2`)"


@dataclass
class RayOptions:
    """`--ray [ADDRESS]` and the actor pool of each stage (one `map_batches` per stage, named as in the
    manifest's stats). Each Ray batch is one shard (`--shard-size` passages), as in the local job."""

    ray: str | None = HfArg(
        default=None,
        metadata={"nargs": "?", "const": "", "metavar": "ADDRESS"},
        help="run on Ray Data (pip install hf-david[ray]): `--ray` starts a local cluster, `--ray auto` joins "
        "the cluster of this machine (`ray start`), `--ray HOST:PORT` or `ray://HOST:10001` a given one",
    )
    ray_actors: list[str] = HfArg(default_factory=lambda: ["1"], help=f"actors per stage: {PER_STAGE}")
    ray_num_cpus: list[str] = HfArg(
        default_factory=list,
        help=f"CPUs reserved per actor: {PER_STAGE}; unset: the cluster's CPUs shared among the actors, at most 1 "
        "each. torch runs max(1, int(CPUs)) threads per actor",
    )
    ray_num_gpus: list[str] = HfArg(default_factory=lambda: ["0"], help=f"GPUs per actor (a GPU engine): {PER_STAGE}")

    def pools(self, stages: list[str], cluster_cpus: float) -> list[dict]:
        """The actor pool of each stage, in order: `actors`, and `num_cpus` and `num_gpus` per actor."""
        actors = _per_stage("ray_actors", self.ray_actors, stages, 1)
        gpus = _per_stage("ray_num_gpus", self.ray_num_gpus, stages, 0.0)
        cpus = _per_stage("ray_num_cpus", self.ray_num_cpus, stages, None)
        fixed = sum(actors[s] * cpus[s] for s in stages if cpus[s] is not None)
        shared = sum(actors[s] for s in stages if cpus[s] is None)
        share = min(1.0, math.floor(100 * max(cluster_cpus - fixed, 0) / max(shared, 1)) / 100) or 0.01
        return [
            {"actors": int(actors[s]), "num_cpus": share if cpus[s] is None else cpus[s], "num_gpus": gpus[s]}
            for s in stages
        ]


def _per_stage(option: str, values: list[str], stages: list[str], default: float | None) -> dict:
    """{stage: value} from `VALUE` (every stage) and `STAGE=VALUE` (one stage) items; a bad item raises."""
    picked = dict.fromkeys(stages, default)
    for item in values:
        name, _, value = item.rpartition("=")
        if name and name not in stages:
            raise ValueError(f"--{option.replace('_', '-')} {item}: no stage {name!r}; the stages are {stages}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"--{option.replace('_', '-')} {item}: {value!r} is not a number") from None
        if option == "ray_actors" and (number < 1 or number != int(number)):
            raise ValueError(f"--ray-actors {item}: not a whole number >= 1")
        if number < 0:
            raise ValueError(f"--{option.replace('_', '-')} {item}: negative")
        picked.update({name: number} if name else dict.fromkeys(stages, number))
    return picked
