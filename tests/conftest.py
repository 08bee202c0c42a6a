"""Shared fixtures: the real SmolLM2 tokenizer and tiny random Llama models built in-process from a config."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# huggingface_hub/datasets/transformers read these at import time, so set them before anything imports them:
# the Hub is the loopback test server (tests/hub_server.py, started by the `hub` fixture), the HF cache a
# throwaway dir, uploads use plain LFS (no Xet), and no token of the machine's user is ever sent.
HUB_PORT = _free_loopback_port()
_HF_HOME = tempfile.mkdtemp(prefix="hf_david_tests_hf_home.")
atexit.register(shutil.rmtree, _HF_HOME, ignore_errors=True)
os.environ.update(
    HF_ENDPOINT=f"http://127.0.0.1:{HUB_PORT}", HF_HOME=_HF_HOME, HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1"
)
for _name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"):
    os.environ.pop(_name, None)


def _throwaway_openvino_cache() -> None:
    """Point HF_DAVID_CACHE at a throwaway dir that shares the user's converted models and existing OpenVINO
    exports (links), so the tests' tiny models are exported there and vanish with it, not into the user's cache."""
    from platformdirs import user_cache_dir

    real = Path(os.environ.get("HF_DAVID_CACHE") or user_cache_dir("hf_david"))
    tmp = Path(tempfile.mkdtemp(prefix="hf_david_tests_cache."))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    (real / "models").mkdir(parents=True, exist_ok=True)
    (tmp / "models").symlink_to(real / "models", target_is_directory=True)
    (tmp / "openvino").mkdir()
    for export in (real / "openvino").glob("*") if (real / "openvino").is_dir() else ():
        (tmp / "openvino" / export.name).symlink_to(export, target_is_directory=True)
    os.environ["HF_DAVID_CACHE"] = str(tmp)


_throwaway_openvino_cache()

FIXTURES = Path(__file__).resolve().parent / "fixtures"  # small slices of real data; see fixtures/README.md
WIKITEXT = FIXTURES / "wikitext2_test_paragraphs_head40.jsonl"
DOLLY = FIXTURES / "dolly15k_rows0-99_6200-6399.jsonl"


def build_tiny_model(path: Path, seed: int = 0) -> Path:
    """Save a 2-layer, hidden-64 random Llama with the real SmolLM2 tokenizer (and chat template) to `path`."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from hf_david.models import DEFAULT_MODEL, resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(DEFAULT_MODEL))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """Path of a tiny random causal LM directory, usable wherever a model name is accepted."""
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny-llama")))


@pytest.fixture(scope="session")
def hub():
    """The loopback Hub at $HF_ENDPOINT with users alice (write + read tokens) and bob (write token)."""
    from hub_server import HubServer

    server = HubServer(
        {"alice-write": ("alice", "write"), "alice-read": ("alice", "read"), "bob-write": ("bob", "write")},
        port=HUB_PORT,
    ).start()
    yield server
    server.stop()
