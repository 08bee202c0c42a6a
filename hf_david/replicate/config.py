"""`ReplicateConfig`: the sizes and sources of `hf-david replicate`, declared once (the CLI comes from it).

The defaults are sized to run E0-E3 end to end on 2 CPU cores in under 90 minutes (docs/replication.md
records the wall time of each experiment). Sources default to data the package ships: the Dolly held-out
rows, the WikiText-2 paragraphs and the SuperNI subset; only E3's seed rows (Dolly rows 0..N-1) come from
the Hub unless `--seed_data` names a local copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers.hf_argparser import HfArg

from dataset_scripts.corpus import PACKAGED_WIKITEXT
from dataset_scripts.longform import PACKAGED_DOLLY_HELDOUT
from dataset_scripts.seed import DOLLY_HUB_ID
from hf_david.models import DEFAULT_MODEL, GENERATOR_MODEL

EXPERIMENTS = {  # name: title
    "e0": "E0, generator: trained vs few-shot",
    "e1": "E1, filter: which candidate to keep",
    "e2": "E2, extraction: passage vs all levels",
    "e3": "E3, downstream: fine-tuned followers",
}


@dataclass
class ReplicateConfig:
    """What `hf-david replicate` runs (recorded in OUT/results.json): E0 generator, E1 filter, E2 extraction,
    E3 downstream. Each experiment writes OUT/eN/results.json and is skipped when that file exists."""

    out: str = HfArg(default="out/replicate", help="folder for every experiment's jobs, models, results, plots")
    experiments: list[str] = HfArg(
        default_factory=lambda: list(EXPERIMENTS), help=f"which to run, a subset of {','.join(EXPERIMENTS)}"
    )
    generator: str = HfArg(default=GENERATOR_MODEL, help="the trained instruction generator under test")
    baseline_generator: str = HfArg(default=DEFAULT_MODEL, help="E0's baseline: the untrained model, few-shot")
    model: str = HfArg(default=DEFAULT_MODEL, help="scorer, fragment extractor, and E3's base model")
    heldout: str = HfArg(
        default=str(PACKAGED_DOLLY_HELDOUT), help="Dolly jsonl (or Hub id) whose rows 6200-6399 are E0/E1's outputs"
    )
    heldout_rows: int = HfArg(default=200, help="held-out Dolly rows used by E0 and E1")
    passages: str = HfArg(default=str(PACKAGED_WIKITEXT), help="jsonl of unlabeled paragraphs (`text`) for E2/E3")
    passage_rows: int = HfArg(default=60, help="paragraphs drawn (seeded) from --passages")
    min_passage_words: int = HfArg(default=40, help="shorter paragraphs (headings, captions) are not drawn")
    shape_check: bool = HfArg(default=True, help="the jobs keep only candidates shaped like instructions")
    k: int = HfArg(default=4, help="candidates per output in E0 and E2 (the pipeline's default)")
    k_filter: int = HfArg(default=8, help="candidates per output in E1")
    seed_data: str = HfArg(default=DOLLY_HUB_ID, help="E3's seed data: Dolly from the Hub or a local jsonl")
    seed_rows: int = HfArg(default=200, help="E3: Dolly seed rows in every training mix")
    train_max_length: int = HfArg(default=256, help="E3: tokens per training example")
    lora_layers: int | None = HfArg(default=12, help="E3: LoRA on the top N layers (unset: all)")
    learning_rate: float = HfArg(default=3e-4, help="E3: LoRA learning rate")
    superni_instances: int = HfArg(default=119, help="E3: SuperNI instances (round-robin over the 119 tasks)")
    dolly_instances: int = HfArg(default=100, help="E3: Dolly held-out long-form instances (METEOR)")
    eval_max_new_tokens: int = HfArg(default=96, help="E3: greedy tokens per evaluation answer")
    resamples: int = HfArg(default=1000, help="bootstrap resamples for every confidence interval")
    seed: int = HfArg(default=0, help="seed of the jobs, the draws, the training runs and the bootstrap")

    def __post_init__(self) -> None:
        self.experiments = [e for item in self.experiments for e in item.split(",") if e]
        unknown = set(self.experiments) - set(EXPERIMENTS)
        if unknown or not self.experiments:
            raise ValueError(f"experiments must be a non-empty subset of {EXPERIMENTS}, got {self.experiments}")
        for name in ("heldout_rows", "passage_rows", "k", "k_filter", "seed_rows", "resamples"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
