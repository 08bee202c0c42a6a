"""The engines behind the stages: OpenVINO GenAI against the transformers reference, on real text."""

import json
import math
import shutil

import pytest
import torch
from conftest import WIKITEXT

from hf_david.models import Sampling, get_engine, load_tokenizer, resolve_engine, score_pairs
from hf_david.models.engines import openvino_available
from hf_david.models.openvino_export import export_openvino

needs_openvino = pytest.mark.skipif(not openvino_available(), reason="openvino-genai is not installed")
INSTRUCTIONS = ["Summarise the paragraph.", "Who is the paragraph about?", "Name a place.", "Continue the text."]


def passages(n: int) -> list[str]:
    rows = [json.loads(line)["text"] for line in WIKITEXT.read_text().splitlines()]
    return [r[:300] for r in rows if len(r) > 200][:n]


def prompts(tiny_model: str, n: int = 3) -> list[list[int]]:
    tokenizer = load_tokenizer(tiny_model)
    return [tokenizer("Write an instruction for: " + text)["input_ids"] for text in passages(n)]


@needs_openvino
def test_greedy_decoding_matches_the_reference(tiny_model):
    greedy = Sampling(k=2, max_new_tokens=8, do_sample=False)
    ids = prompts(tiny_model)
    reference = get_engine("transformers", tiny_model, dtype="float32").sample(ids, greedy, [0] * len(ids))
    assert get_engine("openvino", tiny_model, dtype="float32").sample(ids, greedy, [0] * len(ids)) == reference
    assert all(len(row) == 2 and len(row[0]) == 8 for row in reference)


@needs_openvino
def test_samples_depend_on_the_seeds_and_the_batch_only(tiny_model):
    engine = get_engine("openvino", tiny_model)
    sampling = Sampling(k=3, max_new_tokens=8, temperature=0.9, top_p=0.95)
    ids = prompts(tiny_model)
    first = engine.sample(ids, sampling, [1, 2, 3])
    engine.sample(prompts(tiny_model, 5)[3:], sampling, [4, 5])  # another batch in between changes nothing
    assert engine.sample(ids, sampling, [1, 2, 3]) == first
    assert engine.sample(ids, sampling, [7, 8, 9]) != first
    assert [len(row) for row in first] == [3, 3, 3]


@needs_openvino
def test_scores_agree_with_the_fp32_reference(tiny_model):
    texts = passages(8)
    pairs = [(i, t) for t in texts for i in INSTRUCTIONS]
    args = ([i for i, _ in pairs], [t for _, t in pairs])
    reference, tokens = score_pairs(*args, model=tiny_model, engine="transformers", dtype="float32")
    default, _ = score_pairs(*args, model=tiny_model, engine="openvino")  # bf16 scoring
    fp32, _ = score_pairs(*args, model=tiny_model, engine="openvino", dtype="float32")
    assert tokens > 0
    mad = sum(abs(math.log(a) - math.log(b)) for a, b in zip(reference, default, strict=True)) / len(pairs)
    assert mad < 0.05

    def argmins(ppls):
        k = len(INSTRUCTIONS)
        return [min(range(k), key=lambda j, row=row: ppls[row * k + j]) for row in range(len(texts))]

    assert argmins(fp32) == argmins(reference)


@needs_openvino
def test_auto_picks_openvino_on_the_cpu_and_refuses_it_elsewhere():
    assert resolve_engine("auto", "cpu") == "openvino"
    assert resolve_engine("auto", "cuda") == "transformers"
    with pytest.raises(ValueError, match="runs on the CPU"):
        resolve_engine("openvino", "cuda")
    with pytest.raises(ValueError, match="engine must be one of"):
        resolve_engine("vllm", "cpu")


@needs_openvino
def test_export_is_cached_and_follows_the_weights(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DAVID_CACHE", str(tmp_path / "cache"))
    model = shutil.copytree(tiny_model, tmp_path / "model")
    first = export_openvino(str(model))
    stamp = (first / "openvino_model.bin").stat().st_mtime_ns
    assert export_openvino(str(model)) == first and (first / "openvino_model.bin").stat().st_mtime_ns == stamp
    full = export_openvino(str(model), weights="f32")  # f16 by default: half the weights' bytes
    assert full != first
    assert (full / "openvino_model.bin").stat().st_size > 1.9 * (first / "openvino_model.bin").stat().st_size
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes())  # retrained in place: same path, new file
    assert export_openvino(str(model)) != first


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_engine_samples_and_scores_like_the_cpu(tiny_model):
    gpu = get_engine("transformers", tiny_model, device="cuda", dtype="float32")
    cpu = get_engine("transformers", tiny_model, device="cpu", dtype="float32")
    ids = prompts(tiny_model)
    greedy = Sampling(k=2, max_new_tokens=8, do_sample=False)
    assert gpu.sample(ids, greedy, [0, 0, 0]) == cpu.sample(ids, greedy, [0, 0, 0])
    seqs = [p + p[:5] for p in ids]
    lengths = [len(p) for p in ids]
    for a, b in zip(gpu.score(seqs, lengths, 8), cpu.score(seqs, lengths, 8), strict=True):
        assert abs(a - b) < 1e-3
