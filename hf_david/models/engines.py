"""The engine interface every stage goes through: sample K continuations per prompt, score a completion.

Stages build token ids (chat templates, prompt files) and hand them to an `Engine`; they never know which
library runs the model. Two engines ship:

- `transformers` (`models/transformers_engine.py`): the reference, on CPU or CUDA;
- `openvino` (`models/openvino_engine.py`): OpenVINO GenAI's continuous-batching pipeline for sampling on
  CPU, the default there (see docs/benchmarks.md for why).

`engine="auto"` and `device="auto"` resolve once, in the stage config (`resolve_device`, `resolve_engine`),
so that a job's config hash and manifest name the engine that really ran. `get_engine` builds each
(engine, model, revision, dtype, device) once per process.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import logging
from typing import Literal, get_args

from hf_david.models.engine import Engine

EngineName = Literal["auto", "openvino", "transformers"]
DeviceName = Literal["auto", "cpu", "cuda"]
DTypeName = Literal["auto", "float32", "bfloat16", "float16"]  # auto: each engine's own choice
ENGINES: tuple[str, ...] = get_args(EngineName)[1:]
DEVICES: tuple[str, ...] = get_args(DeviceName)[1:]

logger = logging.getLogger(__name__)


def resolve_device(device: str) -> str:
    """`auto`: CUDA when torch sees a GPU, else the CPU."""
    if device not in ("auto", *DEVICES):
        raise ValueError(f"device must be one of auto, {', '.join(DEVICES)}; got {device!r}")
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def openvino_available() -> bool:
    return importlib.util.find_spec("openvino_genai") is not None


@functools.cache
def resolve_engine(engine: str, device: str) -> str:
    """`auto`: OpenVINO GenAI on the CPU where it is installed, transformers otherwise (and on CUDA)."""
    if engine not in ("auto", *ENGINES):
        raise ValueError(f"engine must be one of auto, {', '.join(ENGINES)}; got {engine!r}")
    if engine == "openvino" and device != "cpu":
        raise ValueError(f"the openvino engine runs on the CPU; use --engine transformers for device {device!r}")
    if engine != "auto":
        return engine
    if device == "cpu" and not openvino_available():
        logger.warning("openvino-genai is not installed for this platform: using the transformers engine")
    return "openvino" if device == "cpu" and openvino_available() else "transformers"


_ENGINES: dict[tuple, Engine] = {}
# Free the engines before interpreter teardown: an OpenVINO pipeline destroyed during teardown can crash it.
atexit.register(_ENGINES.clear)


def get_engine(
    engine: str, model: str, revision: str | None = None, dtype: str = "auto", device: str = "auto"
) -> Engine:
    """The engine `engine` serving `model`, built once per process per argument tuple."""
    device = resolve_device(device)
    engine = resolve_engine(engine, device)
    key = (engine, model, revision, dtype, device)
    if key not in _ENGINES:
        if engine == "openvino":
            from hf_david.models.openvino_engine import OpenVINOEngine as cls
        else:
            from hf_david.models.transformers_engine import TransformersEngine as cls
        _ENGINES[key] = cls(model, revision, dtype, device)
    return _ENGINES[key]
