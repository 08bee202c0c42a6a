"""Scale-out of `hf-david generate` on Ray Data: the same job on a cluster, with the same output row for row.

`generate(config, out, options)` (or `hf-david generate ... --ray [ADDRESS]`) runs the local job's stages,
one actor pool per stage (`ray.data.Dataset.map_batches`), over the shards the manifest does not record
yet, and commits each finished shard on the driver exactly as the local job does. Ray is an optional extra
(`pip install hf-david[ray]`): nothing here imports it until a Ray job runs.
"""

from hf_david.ray.options import RayOptions
from hf_david.ray.runner import RayJob, generate, require_ray

__all__ = ["RayJob", "RayOptions", "generate", "require_ray"]
