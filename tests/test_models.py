from pathlib import Path

import pytest

from hf_david.models import DEFAULT_MODEL, alias_revision, load_model, load_tokenizer, resolve_model


def test_alias_converts_once_to_a_transformers_folder():
    path = Path(resolve_model(DEFAULT_MODEL))
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    assert "quantization_config" not in (path / "config.json").read_text()
    assert path.name.endswith(alias_revision(DEFAULT_MODEL))
    assert resolve_model(DEFAULT_MODEL) == str(path)  # cached: no second conversion


def test_converted_tokenizer_keeps_the_chat_template():
    tokenizer = load_tokenizer(DEFAULT_MODEL)
    text = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False)
    assert text.startswith("<|im_start|>system") and "<|im_start|>user\nHi<|im_end|>" in text
    assert tokenizer.padding_side == "left" and tokenizer.pad_token is not None


def test_models_load_once_per_process(tiny_model):
    model, tokenizer = load_model(tiny_model)
    assert load_model(tiny_model)[0] is model and not model.training
    assert model.generation_config.pad_token_id == tokenizer.pad_token_id


def test_unknown_dtype_is_refused(tiny_model):
    with pytest.raises(ValueError, match="dtype must be one of"):
        load_model(tiny_model, dtype="int3")


def test_other_names_pass_through(tmp_path):
    assert resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_shipped_generator_merges_its_adapter_into_the_base():
    from safetensors.torch import load_file

    from hf_david.models import is_trained_generator
    from hf_david.models.loading import GENERATOR_MODEL

    path = Path(resolve_model(GENERATOR_MODEL))
    assert is_trained_generator(GENERATOR_MODEL) and not is_trained_generator(DEFAULT_MODEL)
    assert path.name.endswith(alias_revision(GENERATOR_MODEL)) and resolve_model(GENERATOR_MODEL) == str(path)
    merged = load_file(path / "model.safetensors")
    base = load_file(Path(resolve_model(DEFAULT_MODEL)) / "model.safetensors")
    name = "model.layers.29.self_attn.q_proj.weight"  # a LoRA target (the top layers); the embeddings are not
    embeddings = "model.embed_tokens.weight"
    assert not merged[name].equal(base[name]) and merged[embeddings].equal(base[embeddings])
