"""`EvalConfig`: what `hf-david evaluate` runs, declared once (the CLI is generated from it by `trl.TrlParser`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from transformers.hf_argparser import HfArg

from dataset_scripts.superni import PROMPT_SETTINGS
from hf_david.models import resolve_device, resolve_engine
from hf_david.models.engines import DeviceName, DTypeName, EngineName

Benchmark = Literal["superni", "longform", "dolly-heldout"]
PromptSetting = Literal[tuple(PROMPT_SETTINGS)]  # Tk-Instruct's settings: "def", "def+2pos"
BENCHMARKS: tuple[str, ...] = get_args(Benchmark)
# SuperNI: Tk-Instruct's max_target_length (128). Long-form: room for a few paragraphs on a CPU budget.
DEFAULT_MAX_NEW_TOKENS = {"superni": 128, "longform": 256, "dolly-heldout": 256}


@dataclass
class EvalConfig:
    """What to evaluate; `data` is a path (or Hub id for LongForm), None for each benchmark's default.

    Recorded as `config` in the run's metrics.json. Defaults of `data`: the SuperNI subset and the Dolly
    held-out rows packaged with `dataset_scripts`, and the Hub id `akoksal/LongForm`.
    """

    model: str = HfArg(help="model alias, Hub id or local folder")
    benchmark: Benchmark = HfArg(default="superni", help="the benchmark to run")
    data: str | None = HfArg(
        default=None,
        help="SuperNI: folder/jsonl/natural-instructions clone, unset: the packaged 1,022-instance subset; "
        "LongForm: file/folder/Hub id, unset: akoksal/LongForm; dolly-heldout: Dolly jsonl or a folder "
        "holding the team copy, unset: the packaged held-out rows",
    )
    max_instances: int | None = HfArg(default=None, help="at most N, round-robin by task/source")
    batch_size: int = HfArg(default=8, help="prompts per generation batch")
    max_new_tokens: int | None = HfArg(default=None, help="unset: 128 for superni, 256 otherwise")
    prompt_setting: PromptSetting = HfArg(default="def+2pos", help="SuperNI prompt (Tk-Instruct)")
    max_prompt_tokens: int = HfArg(default=1024, help="truncate prompts (Tk-Instruct: 1024)")
    revision: str | None = HfArg(default=None, help="model revision (Hub models)")
    engine: EngineName = HfArg(default="auto", help="what runs the model; auto: openvino on the CPU, else transformers")
    device: DeviceName = HfArg(default="auto", help="auto: cuda when a GPU is visible, else cpu")
    dtype: DTypeName = HfArg(default="auto", help="precision; auto: the engine's choice")

    def __post_init__(self) -> None:
        self.device = resolve_device(self.device)
        self.engine = resolve_engine(self.engine, self.device)
        if self.benchmark not in BENCHMARKS:
            raise ValueError(f"benchmark must be one of {', '.join(BENCHMARKS)}, got {self.benchmark!r}")
        if self.prompt_setting not in PROMPT_SETTINGS:
            raise ValueError(f"prompt_setting must be one of {sorted(PROMPT_SETTINGS)}")
        if self.max_new_tokens is None:
            self.max_new_tokens = DEFAULT_MAX_NEW_TOKENS[self.benchmark]
        for name in ("batch_size", "max_new_tokens", "max_prompt_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
