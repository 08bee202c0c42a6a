"""SFT recipes on tiny random models: masking, learning, the saved generator in the generation transform."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from datasets import Dataset, DatasetDict

from dataset_scripts.seed import load_dolly
from hf_david.cli import main
from hf_david.models import load_tokenizer
from hf_david.prompts import load_prompt
from hf_david.stages.generate import GenerateConfig, GenerateInstructions, is_trained_generator
from hf_david.train import (
    FollowingConfig,
    GeneratorConfig,
    add_config_arguments,
    config_from_args,
    make_trainer,
    train,
)
from hf_david.train.data import mix, to_flipped, to_following

DOLLY_FILE = "dolly/dolly15k_rows0-6399_instruction_response_ascii.jsonl"
FAST = {"logging_steps": 1, "save_steps": 1000, "eval_steps": 1000, "warmup_steps": 0}


@pytest.mark.parametrize("recipe", ["generator", "following"])
def test_completion_only_labels(recipe, tiny_model, shared_data, tmp_path):
    """Labels are -100 on every prompt token and equal the input ids on the reply + end-of-turn."""
    seed = load_dolly(str(shared_data / DOLLY_FILE)).select(range(2))
    rows, config_cls = (
        (to_flipped(seed), GeneratorConfig) if recipe == "generator" else (to_following(seed), FollowingConfig)
    )
    trainer = make_trainer(config_cls(output_dir=str(tmp_path), base_model=tiny_model, **FAST), rows, None)
    tokenizer = load_tokenizer(tiny_model)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    labels, input_ids = batch["labels"], batch["input_ids"]
    for i in range(2):
        # The prompt as rendered at inference: the model's chat template with the generation prompt added.
        prompt_ids = tokenizer.apply_chat_template(
            rows[i]["prompt"], add_generation_prompt=True, tokenize=True, return_dict=True
        )["input_ids"]
        n_prompt, n_real = len(prompt_ids), int(batch["attention_mask"][i].sum())
        assert input_ids[i, :n_prompt].tolist() == list(prompt_ids)
        assert (labels[i, :n_prompt] == -100).all()
        assert torch.equal(labels[i, n_prompt:n_real], input_ids[i, n_prompt:n_real])
        assert (labels[i, n_real:] == -100).all()
        reply = seed[i]["instruction"] if recipe == "generator" else seed[i]["output"]
        assert tokenizer.decode(labels[i, n_prompt:n_real]) == reply + "<|im_end|>\n"


def test_flipped_prompt_is_the_generation_prompt(shared_data):
    row = load_dolly(str(shared_data / DOLLY_FILE))[3]
    example = to_flipped(Dataset.from_list([row]))[0]
    assert example["prompt"] == load_prompt("instruction_generation").messages(output=row["output"], few_shot=False)
    assert example["completion"] == [{"role": "assistant", "content": row["instruction"]}]


@pytest.fixture(scope="module")
def trained_generator(tiny_model, shared_data, tmp_path_factory) -> Path:
    """A tiny generator fit to one repeated Dolly pair (a batch it sees every step), written by the CLI."""
    data = tmp_path_factory.mktemp("seed") / "two.jsonl"
    rows = [json.loads(line) for line in (shared_data / DOLLY_FILE).read_text().splitlines()[:1]]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows * 6))
    out = tmp_path_factory.mktemp("gen") / "model"
    code = main(
        [
            "train-generator",
            "--base-model",
            tiny_model,
            "--seed-data",
            str(data),
            "--output-dir",
            str(out),
            "--instruction-column",
            "instruction",
            "--output-column",
            "response",
            "--eval-rows",
            "2",
            "--max-steps",
            "36",
            "--learning-rate",
            "5e-3",
            "--lr-scheduler-type",
            "constant",
            "--per-device-train-batch-size",
            "2",
            "--logging-steps",
            "1",
            "--eval-steps",
            "18",
            "--warmup-steps",
            "0",
            "--seed-license",
            "cc-by-sa-3.0",
        ]
    )
    assert code == 0
    return out


def test_loss_goes_down_and_run_is_recorded(trained_generator):
    record = json.loads((trained_generator / "hf_david_training.json").read_text())
    losses = [h["loss"] for h in record["log_history"] if "loss" in h]
    assert len(losses) == 36
    assert losses[-1] < 0.05 * losses[0]
    assert record["task"] == "instruction-generator"
    assert record["datasets"] == [
        {"name": "two.jsonl", "source": record["datasets"][0]["source"], "rows": 4, "license": "cc-by-sa-3.0"}
    ]
    assert record["hyperparameters"]["learning_rate"] == 5e-3 and record["hyperparameters"]["seed"] == 0
    assert record["eval_loss"] is not None and record["train_loss"] == losses[-1]
    assert record["command"].startswith("hf-david train-generator")
    assert (trained_generator / "loss_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert not (trained_generator / "checkpoints").exists()


def test_model_card_mentions_the_data(trained_generator):
    card = (trained_generator / "README.md").read_text()
    assert "two.jsonl" in card and "cc-by-sa-3.0" in card.lower()
    assert "loss_curve.png" in card


def test_saved_generator_works_in_the_generation_transform(trained_generator, shared_data):
    """The fitted generator, loaded by path, writes the instruction it learned (no few-shot demos)."""
    assert is_trained_generator(str(trained_generator))
    row = load_dolly(str(shared_data / DOLLY_FILE))[0]
    transform = GenerateInstructions(GenerateConfig(model=str(trained_generator), k=2, max_new_tokens=16))
    out = transform({"output": [row["output"]], "context": [""]})
    assert out["candidates"][0] == [row["instruction"]]


def test_resume_continues_from_the_last_checkpoint(tiny_model, shared_data, tmp_path):
    common = dict(
        base_model=tiny_model,
        seed_data=str(shared_data / DOLLY_FILE),
        max_seed_rows=8,
        eval_rows=0,
        per_device_train_batch_size=4,
        logging_steps=1,
        save_steps=2,
        keep_checkpoints=True,
    )
    out = tmp_path / "run"
    train(GeneratorConfig(output_dir=str(out), max_steps=2, **common))
    with pytest.raises(FileExistsError, match="--resume"):
        train(GeneratorConfig(output_dir=str(out), max_steps=4, **common))
    train(GeneratorConfig(output_dir=str(out), max_steps=4, resume=True, **common))
    record = json.loads((out / "hf_david_training.json").read_text())
    assert record["global_step"] == 4
    assert [h["step"] for h in record["log_history"] if "loss" in h] == [1, 2, 3, 4]


def test_following_recipe_mixes_seed_and_generated(tiny_model, tmp_path):
    seed = tmp_path / "seed.jsonl"
    seed.write_text("".join(json.dumps({"q": f"Say {i}.", "a": f"{i}"}) + "\n" for i in range(12)))
    job = tmp_path / "job"
    DatasetDict(
        {
            "train": Dataset.from_list(
                [
                    {"instruction": f"Define word {i}.", "input": f"word {i}", "output": f"Word {i} means {i}."}
                    for i in range(30)
                ]
            )
        }
    ).save_to_disk(str(job))
    out = tmp_path / "follower"
    code = main(
        [
            "train",
            "--base-model",
            tiny_model,
            "--seed-data",
            str(seed),
            "--instruction-column",
            "q",
            "--output-column",
            "a",
            "--eval-rows",
            "2",
            "--generated",
            str(job),
            "--generated-fraction",
            "0.5",
            "--max-steps",
            "2",
            "--save-steps",
            "1000",
            "--output-dir",
            str(out),
        ]
    )
    assert code == 0
    record = json.loads((out / "hf_david_training.json").read_text())
    assert record["task"] == "instruction-following"
    assert [(d["name"], d["rows"]) for d in record["datasets"]] == [("seed.jsonl", 10), ("job", 10)]
    assert record["train_rows"] == 20


def test_mix_ratio():
    seed = Dataset.from_dict({"source": ["s"] * 10})
    gen = Dataset.from_dict({"source": ["g"] * 30})
    counts = {f: sorted(mix(seed, gen, f, 0)["source"]).count("g") for f in (0.0, 0.5, 0.75, 0.9, 1.0)}
    assert counts == {0.0: 0, 0.5: 10, 0.75: 30, 0.9: 30, 1.0: 30}
    assert len(mix(seed, gen, 0.9, 0)) == 33  # generated-limited: 30 generated + 3 seed
    with pytest.raises(ValueError, match="generated_fraction"):
        mix(seed, gen, 1.5, 0)


def test_yaml_config_with_cli_overrides(tmp_path):
    import argparse

    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump({"learning_rate": 1e-3, "lora": True, "generated": ["a", "b"]}))
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, FollowingConfig)
    config = config_from_args(FollowingConfig, parser.parse_args(["--config", str(path), "--no-lora", "--seed", "7"]))
    assert (config.learning_rate, config.lora, config.seed, config.generated) == (1e-3, False, 7, ["a", "b"])
    path.write_text(yaml.safe_dump({"learning_rat": 1}))
    with pytest.raises(ValueError, match="unknown options \\['learning_rat'\\]"):
        config_from_args(FollowingConfig, parser.parse_args(["--config", str(path)]))
