"""`hf-david replicate`: measured evidence that each part of the method works (docs/replication.md).

E0 generator, E1 filter, E2 extraction, E3 downstream; `replicate(ReplicateConfig(...))` runs them.
"""

from hf_david.replicate.config import EXPERIMENTS, ReplicateConfig
from hf_david.replicate.runner import replicate

__all__ = ["EXPERIMENTS", "ReplicateConfig", "replicate"]
