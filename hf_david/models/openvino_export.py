"""Export a transformers causal LM to a stateful OpenVINO IR that OpenVINO GenAI's pipelines load.

Reads a model (alias, local folder or Hub id), writes `$HF_DAVID_CACHE/openvino/<name>-<weights>-<key>/` once:
`openvino_model.xml/.bin`, the tokenizer as OpenVINO tokenizer/detokenizer models, and the transformers
config and tokenizer files. Weights are stored in `f16` (half the file, which the CPU plugin maps into
memory; it computes in bf16 anyway) or `f32` (for exact f32 inference). The key hashes the source's files
and the weight precision, so a retrained folder is exported again. The folder is built under a temporary
name and renamed.

How: OpenVINO's PyTorch frontend traces the model with its KV cache as explicit inputs and outputs
(`past_key_values.N.key/value` -> `present.N.key/value`); then, as optimum-intel's exporter does, a
`beam_idx` gather is fused in front of each cache input and `apply_make_stateful_transformation` turns the
cache into internal state. GenAI's continuous-batching pipeline rewrites that state into paged attention.
This keeps our own transformers version: optimum-intel's exporter pins older transformers and huggingface_hub.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from hf_david.models.loading import cache_dir, resolve_model

EXPORT_FORMAT = 2  # bump when the exported graph changes, so cached IRs are rebuilt
WEIGHTS = ("f16", "f32")


def _source_dir(name_or_path: str, revision: str | None) -> Path:
    """The local folder holding the model's files (a Hub model is fetched into the Hub cache)."""
    local = Path(resolve_model(name_or_path))
    if local.is_dir():
        return local
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(name_or_path, revision=revision))


def _key(source: Path, weights: str) -> str:
    import openvino

    files = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in source.iterdir() if p.is_file())
    text = json.dumps([str(source.resolve()), files, openvino.get_version(), EXPORT_FORMAT, weights])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def export_openvino(name_or_path: str, revision: str | None = None, weights: str = "f16") -> Path:
    """The folder of the model's OpenVINO IR with `weights` (`f16` or `f32`), exporting it on first use."""
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}; got {weights!r}")
    source = _source_dir(name_or_path, revision)
    target = cache_dir() / "openvino" / f"{source.name}-{weights}-{_key(source, weights)}"
    if (target / "openvino_model.xml").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        _export(source, tmp, weights)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


class _CacheAsTensors(torch.nn.Module):
    """The model with its KV cache passed in and out as one key and one value tensor per layer."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past):
        from transformers import DynamicCache

        cache = DynamicCache(config=self.model.config)
        for i, layer in enumerate(cache.layers):
            layer.device, layer.keys, layer.values = input_ids.device, past[2 * i], past[2 * i + 1]
            layer.is_initialized = True
        out = self.model(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, cache=cache, use_cache=True
        )
        return (out.logits, *(t for layer in out.cache.layers for t in (layer.keys, layer.values)))


def _trace(model):
    """The OpenVINO model of `model` with named, dynamic-shaped inputs and outputs (not yet stateful)."""
    import openvino as ov

    config = model.config
    layers, heads = config.num_hidden_layers, config.num_key_value_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    batch, new, past = 2, 3, 4
    cache = [torch.zeros(batch, heads, past, head_dim) for _ in range(2 * layers)]
    example = (
        torch.ones(batch, new, dtype=torch.long),
        torch.ones(batch, past + new, dtype=torch.long),
        torch.arange(past, past + new).repeat(batch, 1),
        *cache,
    )
    shapes = [ov.PartialShape([-1, -1])] * 3 + [ov.PartialShape([-1, heads, -1, head_dim])] * (2 * layers)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # the traced branches only shape the mask,
        ov_model = ov.convert_model(_CacheAsTensors(model), example_input=example, input=shapes)  # replaced later
    kv = [f"{i}.{part}" for i in range(layers) for part in ("key", "value")]
    for port, name in zip(ov_model.inputs, ["input_ids", "attention_mask", "position_ids", *kv], strict=True):
        port.get_tensor().set_names({name if "." not in name else f"past_key_values.{name}"})
    for port, name in zip(ov_model.outputs, ["logits", *(f"present.{n}" for n in kv)], strict=True):
        port.get_tensor().set_names({name})
    return ov_model, [f"past_key_values.{n}" for n in kv], [f"present.{n}" for n in kv]


def _make_stateful(ov_model, cache_inputs: list[str], cache_outputs: list[str]) -> None:
    """Fuse a `beam_idx` gather before each cache input, then hide the cache as state (zeros to start)."""
    import openvino as ov
    from openvino import opset13
    from openvino._offline_transformations import apply_make_stateful_transformation

    batch = ov_model.input("input_ids").get_partial_shape()[0]
    beam_idx = opset13.parameter(name="beam_idx", dtype=ov.Type.i32, shape=ov.PartialShape([batch]))
    beam_idx.output(0).get_tensor().add_names({"beam_idx"})
    ov_model.add_parameters([beam_idx])
    for name in cache_inputs:
        port = ov_model.input(name)
        consumers = port.get_target_inputs()
        gather = opset13.gather(port, beam_idx, opset13.constant(0))
        for consumer in consumers:
            consumer.replace_source_output(gather.output(0))
    ov_model.validate_nodes_and_infer_types()
    apply_make_stateful_transformation(ov_model, dict(zip(cache_inputs, cache_outputs, strict=True)))
    rows = opset13.gather(
        opset13.shape_of(ov_model.input("input_ids"), output_type="i64"), opset13.constant([0]), opset13.constant(0)
    )
    for op in ov_model.get_ops():
        if op.get_type_name() == "ReadValue":
            dims = [d.min_length for d in op.get_output_partial_shape(0)]
            parts = [rows, *(opset13.constant(np.array([d], dtype=np.int64)) for d in dims[1:])]
            zeros = opset13.constant(0.0, dtype=op.get_output_element_type(0))
            op.set_arguments([opset13.broadcast(zeros, opset13.concat(parts, axis=0))])
    ov_model.validate_nodes_and_infer_types()


def _export(source: Path, out: Path, weights: str) -> None:
    import openvino as ov
    from openvino_tokenizers import convert_tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, attn_implementation="sdpa").eval()
    tokenizer = AutoTokenizer.from_pretrained(source)
    ov_model, cache_inputs, cache_outputs = _trace(model)
    _make_stateful(ov_model, cache_inputs, cache_outputs)
    ov.save_model(ov_model, out / "openvino_model.xml", compress_to_fp16=weights == "f16")
    ov_tokenizer, ov_detokenizer = convert_tokenizer(tokenizer, with_detokenizer=True)
    ov.save_model(ov_tokenizer, out / "openvino_tokenizer.xml")
    ov.save_model(ov_detokenizer, out / "openvino_detokenizer.xml")
    tokenizer.save_pretrained(out)
    model.config.save_pretrained(out)
    model.generation_config.save_pretrained(out)
