"""What hf_david writes beside its outputs, named once: manifest files, task names, the columns of a
generated dataset, and how a command line is recorded. Writers (job, train) and readers (cards, hub,
train data) import these instead of spelling them again.
"""

from __future__ import annotations

import shlex
import sys

from datasets import Features, Sequence, Value

JOB_MANIFEST = "hf_david_job.json"  # written by hf_david.job; read by publish and train.data
TRAINING_MANIFEST = "hf_david_training.json"  # written by hf_david.train; read by models and publish
GENERATOR_TASK = "instruction-generator"  # the `task` recorded for a trained instruction generator
FOLLOWING_TASK = "instruction-following"  # the `task` recorded for a trained instruction follower
LOSS_CURVE = "loss_curve.png"  # written by hf_david.train beside the model

# The `train` split of a generated dataset: one instruction/output pair per row, with how it was chosen.
TRAIN_FEATURES = Features(
    {
        "instruction": Value("string"),
        "input": Value("string"),
        "output": Value("string"),
        "context": Value("string"),
        "level": Value("string"),
        "source_id": Value("string"),
        "candidates": Sequence(Value("string")),
        "candidate_ppls": Sequence(Value("float64")),
        "ppl": Value("float64"),
        "ifd": Value("float64"),
        "language": Value("string"),
        "unsupported_terms": Sequence(Value("string")),
    }
)
# What a train column holds when the stage that writes it was switched off (`--grounding false`).
TRAIN_DEFAULTS = {"unsupported_terms": []}
# The `rejects` split: a row that a stage could not use, with a stable reason code and a free-text detail.
REJECT_FEATURES = Features(
    {
        "source_id": Value("string"),
        "stage": Value("string"),
        "reason": Value("string"),
        "detail": Value("string"),
        "level": Value("string"),
        "text": Value("string"),
        "collides_with": Value("string"),
    }
)
TRAIN_COLUMNS = tuple(TRAIN_FEATURES)
REJECT_COLUMNS = tuple(REJECT_FEATURES)
# The splits of a generated dataset (`datasets.load_from_disk(OUT)`), by name.
SPLIT_FEATURES = {"train": TRAIN_FEATURES, "rejects": REJECT_FEATURES}


def command_line(argv: list[str] | None = None) -> str:
    """The `hf-david ...` command that is running, as one shell string, for manifests and cards."""
    return shlex.join(["hf-david", *(sys.argv[1:] if argv is None else argv)])
