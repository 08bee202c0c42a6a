"""`RayJob`: the local `Job` with its `process()` step run on Ray Data; everything else is the local job's.

The corpus reaches the driver in the local job's fixed order (read by Ray Data's readers where they read
it the same, `readers.corpus_rows`), and the driver cuts the same shards (`Job.shards`), so every stage
sees exactly the batches it sees in the local job. The pending shards become a Ray dataset
of one row (and one block) per shard, each stage a `map_batches` over an actor pool of `StageActor`s, and
the driver commits each shard that comes out with `Job.commit` (atomic parquet + manifest), in shard
order (the stages run on later shards meanwhile). `Job.finish` then builds the same folder, manifest and
card as a local run.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from datasets import DatasetDict
from tqdm.auto import tqdm

from hf_david.job.config import JobConfig, JobError
from hf_david.job.runner import Job, shard_batch
from hf_david.ray.actors import StageActor, shard_row, unpack
from hf_david.ray.options import RayOptions
from hf_david.ray.readers import corpus_rows
from hf_david.stages import build_stages

INSTALL = "pip install 'hf-david[ray]'"


def require_ray():
    """The `ray` module (with Ray Data), or a JobError that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (the `data` extra)
    except ImportError as err:
        raise JobError(f"--ray needs Ray Data, which is not installed ({err}); install it with: {INSTALL}") from err
    return ray


@contextmanager
def cluster(address: str | None) -> Iterator:
    """Ray, connected: the running session if this process has one, else `address` ("": a new local cluster,
    "auto": the cluster started on this machine by `ray start`). A cluster started here is shut down after."""
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    handler = signal.getsignal(signal.SIGTERM)
    if address:
        try:
            ray.init(address=address)
        except ConnectionError as err:
            raise JobError(f"no Ray cluster at --ray {address}: {err}") from err
    else:
        ray.init(address="local", include_dashboard=False)
    signal.signal(signal.SIGTERM, handler)  # ray.init installs its own; the job's turns SIGTERM into an interrupt
    try:
        yield ray
    finally:
        ray.shutdown()


class RayJob(Job):
    """A `Job` whose pending shards run on a Ray cluster; same config, folder, manifest and output."""

    def __init__(
        self,
        config: JobConfig,
        out: str | Path,
        options: RayOptions | None = None,
        *,
        overwrite: bool = False,
        command: str = "",
    ) -> None:
        require_ray()  # before reading anything: a missing extra is the first thing to say
        super().__init__(config, out, overwrite=overwrite, command=command)
        self.options = options or RayOptions(ray="")
        self.stage_names = [stage.name for stage in build_stages(config)]
        self.options.pools(self.stage_names, 1)  # bad per-stage options fail before a cluster starts

    def process(self) -> None:
        """Run the stages on Ray over the shards not committed yet, committing each as it comes out."""
        done = self.done()
        with cluster(self.options.ray) as ray:
            self.rows = corpus_rows(ray, self.config, self.columns, self.rows)
            shards = self.shards()
            rows = [shard_row(i, shard, *shard_batch(shard, self.columns)) for i, shard in shards if i not in done]
            self.rows.close()  # the read ends before the stages start: readers and actors on every CPU deadlock
            if not rows:
                return
            data = ray.data.from_items(rows, override_num_blocks=len(rows))
            pools = self.options.pools(self.stage_names, ray.cluster_resources().get("CPU", 0))
            _warn_if_too_big(ray, pools, self.stage_names)
            for position, pool in enumerate(pools):
                threads = max(1, int(pool["num_cpus"]))
                data = data.map_batches(
                    StageActor, fn_constructor_args=(self.config, position, threads), batch_size=1,
                    batch_format="pyarrow", compute=ray.data.ActorPoolStrategy(size=pool["actors"]),
                    num_cpus=pool["num_cpus"], num_gpus=pool["num_gpus"],
                )  # fmt: skip
            # Commits in shard order, as in the local job: the reject-rate guard sees the same shards.
            data.context.execution_options.preserve_order = True
            with tqdm(total=sum(r["passages"] for r in rows), desc="passages committed", unit="passage") as bar:
                for table in data.iter_batches(batch_size=1, batch_format="pyarrow", prefetch_batches=0):
                    for row in table.to_pylist():
                        self.commit(*unpack(row))
                        bar.update(row["passages"])


def _warn_if_too_big(ray, pools: list[dict], names: list[str]) -> None:
    """Say so when the actor pools need more CPUs or GPUs than the cluster has now (Ray would wait for them)."""
    have = ray.cluster_resources()
    for key, resource in (("num_cpus", "CPU"), ("num_gpus", "GPU")):
        need = sum(pool["actors"] * pool[key] for pool in pools)
        if need > have.get(resource, 0):
            print(
                f"hf-david: the actor pools of {', '.join(names)} need {need:g} {resource}s, the cluster has "
                f"{have.get(resource, 0):g}: they wait for more nodes (lower --ray-actors or --ray-num-{key[4:]})",
                file=sys.stderr,
            )


def generate(
    config: JobConfig, out: str | Path, options: RayOptions | None = None, *, overwrite: bool = False, command: str = ""
) -> DatasetDict:
    """`hf-david generate --ray` as a function: run (or resume) the job in `out` on Ray; the final DatasetDict."""
    return RayJob(config, out, options, overwrite=overwrite, command=command).run()
