"""The OpenVINO GenAI engine: sampling on the CPU with `ContinuousBatchingPipeline`, the default there.

All prompts of a call go to the pipeline in one `generate`, one `GenerationConfig` per prompt
(`num_return_sequences=k`, `rng_seed` from the row). The same batch gives the same samples, whatever ran
before it in the process: stages form batches deterministically, so a resumed or distributed job equals an
uninterrupted one.

Prefix caching is off by default. On with 2 threads, it about doubles throughput on few-shot prompts, but
rows served from cached KV blocks are no longer reproducible run to run (docs/benchmarks.md); the
benchmark measures it with `prefix_caching=True`.

Precision: `dtype="auto"` lets OpenVINO choose (bf16 on CPUs that have it) and loads the IR with f16
weights (half the memory the plugin maps); `float32` forces f32 on an f32 IR, for exact parity.
The KV cache is u8 (the CPU plugin's default); its pool's pages count only once blocks are used.
Scoring runs on the transformers engine, in bfloat16 for `auto`: on the CPU it scores as fast as OpenVINO
and keeps the reference's argmin (docs/benchmarks.md).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from hf_david.models.engine import Engine, Sampling
from hf_david.models.loading import load_tokenizer
from hf_david.models.openvino_export import export_openvino
from hf_david.models.sampling import shared_prefix_length
from hf_david.models.transformers_engine import TransformersEngine, strip_eos

PRECISION_HINTS = {"float32": "f32", "bfloat16": "bf16", "float16": "f16"}
KV_CACHE_GB = 1  # the pipeline's KV-cache pool; rows that do not fit wait or are recomputed
MAX_BATCHED_TOKENS = 8192  # tokens per model step (prompt chunks and decoded tokens together)


class OpenVINOEngine(Engine):
    name = "openvino"

    def __init__(self, model: str, revision: str | None, dtype: str, device: str, prefix_caching: bool = False):
        super().__init__(model, revision, dtype, device)
        self.prefix_caching = prefix_caching
        self.tokenizer = load_tokenizer(model, revision)
        self.stop = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id} - {None}
        self.scorer: TransformersEngine | None = None  # built on first use: a generator may never score

    @functools.cached_property
    def pipeline(self):
        """The sampling pipeline, built on first use: an engine that only scores never holds one."""
        import openvino_genai

        properties = {"INFERENCE_NUM_THREADS": torch.get_num_threads()}
        if self.dtype in PRECISION_HINTS:
            properties["INFERENCE_PRECISION_HINT"] = PRECISION_HINTS[self.dtype]
        scheduler = openvino_genai.SchedulerConfig()
        scheduler.cache_size = KV_CACHE_GB
        scheduler.max_num_batched_tokens = MAX_BATCHED_TOKENS
        scheduler.enable_prefix_caching = self.prefix_caching
        weights = "f32" if self.dtype == "float32" else "f16"
        ir = export_openvino(self.model, self.revision, weights)
        return openvino_genai.ContinuousBatchingPipeline(str(ir), scheduler, "CPU", properties)

    def _primer(self):
        import openvino_genai

        config = openvino_genai.GenerationConfig()
        config.max_new_tokens, config.do_sample = 1, False
        return config

    def _config(self, sampling: Sampling, seed: int):
        import openvino_genai

        config = openvino_genai.GenerationConfig()
        config.max_new_tokens = sampling.max_new_tokens
        config.eos_token_id = self.tokenizer.eos_token_id
        config.stop_token_ids = self.stop
        config.do_sample = sampling.do_sample
        if sampling.do_sample:
            config.temperature, config.top_p = sampling.temperature, sampling.top_p
            config.num_return_sequences, config.rng_seed = sampling.k, seed
        return config

    def sample(self, prompts: list[list[int]], sampling: Sampling, seeds: list[int]) -> list[list[list[int]]]:
        import openvino as ov

        if not prompts:
            return []
        if self.prefix_caching and (shared := shared_prefix_length(prompts)):
            # The shared prefix alone first, so that the rows find it cached instead of each computing it.
            self.pipeline.generate([ov.Tensor(np.array([prompts[0][:shared]], dtype=np.int64))], [self._primer()])
        results = self.pipeline.generate(
            [ov.Tensor(np.array([p], dtype=np.int64)) for p in prompts],
            [self._config(sampling, seed) for seed in seeds],
        )
        samples = [[strip_eos(list(ids), self.stop) for ids in r.m_generation_ids] for r in results]
        # Greedy decoding returns one sequence; k greedy continuations are k copies of it.
        return [s * sampling.k if not sampling.do_sample else s for s in samples]

    def score(self, sequences: list[list[int]], prompt_lengths: list[int], batch_size: int) -> list[float]:
        if self.scorer is None:
            dtype = "bfloat16" if self.dtype == "auto" else self.dtype
            self.scorer = TransformersEngine(self.model, self.revision, dtype, "cpu")
        return self.scorer.score(sequences, prompt_lengths, batch_size)
