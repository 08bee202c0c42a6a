"""SFT recipes on tiny random models: masking, learning, the saved generator in the generation stage, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from conftest import DOLLY
from datasets import Dataset, DatasetDict

from dataset_scripts.seed import COLUMNS, load_dolly
from hf_david.cli import main
from hf_david.cli.common import parse
from hf_david.models import is_trained_generator, load_tokenizer
from hf_david.prompts import INSTRUCTION_FOLLOWING, INSTRUCTION_GENERATION, load_prompt
from hf_david.stages.generate import GenerateConfig, GenerateInstructions
from hf_david.train import FollowingConfig, GeneratorConfig, load_generated, make_trainer, train
from hf_david.train.data import mix, to_flipped, to_following

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
FAST = {"logging_steps": 1, "save_steps": 1000, "eval_steps": 1000, "warmup_steps": 0}


def cli(command: str, **options) -> list[str]:
    """`hf-david COMMAND --option-name value ...` (kebab-case: the parser takes it as well as snake_case)."""
    return [command, *(word for name, value in options.items() for word in ("--" + name.replace("_", "-"), str(value)))]


@pytest.mark.parametrize("recipe", ["generator", "following"])
def test_completion_only_labels(recipe, tiny_model, tmp_path):
    """Labels are -100 on every prompt token and equal the input ids on the reply + end-of-turn."""
    seed = load_dolly(str(DOLLY)).select(range(2))
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


def test_trainer_args_checkpoint_under_the_model_folder(tiny_model, tmp_path):
    """The trainer writes checkpoints to <output_dir>/checkpoints and does not evaluate without eval rows."""
    rows = to_flipped(load_dolly(str(DOLLY)).select(range(2)))
    config = GeneratorConfig(output_dir=str(tmp_path), base_model=tiny_model, **FAST)
    args = make_trainer(config, rows, None).args
    assert args.output_dir == str(tmp_path / "checkpoints") and args.eval_strategy == "no"
    assert (args.seed, args.learning_rate, args.max_length, args.completion_only_loss) == (0, 1e-4, 512, True)
    assert not (args.bf16 or args.packing or args.activation_checkpointing) and args.report_to in ([], "none")
    assert config.output_dir == str(tmp_path) and config.eval_strategy == "steps"


def test_flipped_prompt_is_the_generation_prompt():
    row = load_dolly(str(DOLLY))[3]
    example = to_flipped(Dataset.from_list([row]))[0]
    assert example["prompt"] == load_prompt(INSTRUCTION_GENERATION).messages(
        output=row["output"], context="", few_shot=False
    )
    assert example["completion"] == [{"role": "assistant", "content": row["instruction"]}]


def test_following_prompt_is_the_follower_user_turn():
    row = {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour", "source": "s"}
    example = to_following(Dataset.from_list([row]))[0]
    turn = load_prompt(INSTRUCTION_FOLLOWING).user_turn(instruction=row["instruction"], input=row["input"])
    assert example["prompt"] == [{"role": "user", "content": turn}]
    assert turn == "Translate to French.\n\nGood morning"
    assert example["completion"] == [{"role": "assistant", "content": "Bonjour"}]


def test_heldout_rows_are_never_trained_on(tmp_path):
    """Dolly rows 6200-6399 are the eval set only; the train split comes from the other rows."""
    from hf_david.train.data import load_seed

    train_rows, held, source = load_seed(GeneratorConfig(output_dir=str(tmp_path), seed_data=str(DOLLY), eval_rows=50))
    assert len(train_rows) == 100 and max(train_rows["dolly_row"]) < 6200
    assert held["dolly_row"] == list(range(6200, 6250))
    assert (source.name, source.rows, source.license) == ("databricks-dolly-15k", 100, "cc-by-sa-3.0")


@pytest.fixture(scope="module")
def trained_generator(tiny_model, tmp_path_factory) -> Path:
    """A tiny generator fit to one repeated Dolly pair (a batch it sees every step), written by the CLI."""
    data = tmp_path_factory.mktemp("seed") / "two.jsonl"
    rows = [json.loads(line) for line in DOLLY.read_text().splitlines()[:1]]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows * 6))
    out = tmp_path_factory.mktemp("gen") / "model"
    code = main(
        cli(
            "train-generator",
            base_model=tiny_model,
            seed_data=data,
            output_dir=out,
            instruction_column="instruction",
            output_column="response",
            eval_rows=2,
            max_steps=36,
            learning_rate=5e-3,
            lr_scheduler_type="constant",
            per_device_train_batch_size=2,
            logging_steps=1,
            eval_steps=18,
            warmup_steps=0,
            seed_license="cc-by-sa-3.0",
        )
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


def test_recorded_hyperparameters_are_complete(trained_generator):
    """Every config field is recorded (ours and SFTConfig's), the model folder as output_dir, no token value."""
    hyper = json.loads((trained_generator / "hf_david_training.json").read_text())["hyperparameters"]
    assert set(GeneratorConfig.__dataclass_fields__) <= set(hyper)
    assert hyper["output_dir"] == str(trained_generator) and hyper["eval_strategy"] == "steps"
    assert (hyper["per_device_train_batch_size"], hyper["effective_batch_size"], hyper["lora"]) == (2, 2, False)
    assert hyper["hub_token"] == "<HUB_TOKEN>"


def test_model_card_mentions_the_data(trained_generator):
    card = (trained_generator / "README.md").read_text()
    assert "two.jsonl" in card and "cc-by-sa-3.0" in card.lower()
    assert "loss_curve.png" in card


def test_saved_generator_works_in_the_generation_stage(trained_generator):
    """The fitted generator, loaded by path, writes the instruction it learned (no few-shot demos)."""
    assert is_trained_generator(str(trained_generator))
    row = load_dolly(str(DOLLY))[0]
    transform = GenerateInstructions(GenerateConfig(model=str(trained_generator), k=2, max_new_tokens=16))
    out = transform({"output": [row["output"]], "context": [""]})
    assert out["candidates"][0] == [row["instruction"]]


def test_resume_continues_from_the_last_checkpoint(tiny_model, tmp_path):
    common = dict(
        base_model=tiny_model,
        seed_data=str(DOLLY),
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
        cli(
            "train",
            base_model=tiny_model,
            seed_data=seed,
            instruction_column="q",
            output_column="a",
            eval_rows=2,
            generated=job,
            generated_fraction=0.5,
            max_steps=2,
            save_steps=1000,
            output_dir=out,
        )
    )
    assert code == 0
    record = json.loads((out / "hf_david_training.json").read_text())
    assert record["task"] == "instruction-following"
    assert [(d["name"], d["rows"]) for d in record["datasets"]] == [("seed.jsonl", 10), ("job", 10)]
    assert record["train_rows"] == 20


def test_generated_job_folder(tmp_path):
    job = tmp_path / "job"
    DatasetDict(
        {
            "train": Dataset.from_list(
                [
                    {
                        "instruction": "What is X?",
                        "input": "",
                        "output": "X is Y.",
                        "context": "c",
                        "level": "sentence",
                        "source_id": "p0",
                        "candidates": ["What is X?"],
                        "candidate_ppls": [3.0],
                        "ppl": 3.0,
                    }
                ]
            ),
            "rejects": Dataset.from_list([{"source_id": "p1", "stage": "generate", "reason": "r", "text": "t"}]),
        }
    ).save_to_disk(str(job))
    (job / "hf_david_job.json").write_text(json.dumps({"config": {"corpus": "wikitext"}}))
    ds, manifest = load_generated(job)
    assert ds.column_names == COLUMNS
    assert ds[0] == {"instruction": "What is X?", "input": "", "output": "X is Y.", "source": "hf-david:job"}
    assert manifest["config"]["corpus"] == "wikitext"
    with pytest.raises(FileNotFoundError):
        load_generated(tmp_path / "missing")


def test_mix_ratio():
    seed = Dataset.from_dict({"source": ["s"] * 10})
    gen = Dataset.from_dict({"source": ["g"] * 30})
    counts = {f: sorted(mix(seed, gen, f, 0)["source"]).count("g") for f in (0.0, 0.5, 0.75, 0.9, 1.0)}
    assert counts == {0.0: 0, 0.5: 10, 0.75: 30, 0.9: 30, 1.0: 30}
    assert len(mix(seed, gen, 0.9, 0)) == 33  # generated-limited: 30 generated + 3 seed
    with pytest.raises(ValueError, match="generated_fraction"):
        mix(seed, gen, 1.5, 0)


def test_yaml_config_with_cli_overrides(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump({"learning_rate": 1e-3, "lora": True, "generated": ["a", "b"], "output_dir": "m"}))
    (config,) = parse("train", (FollowingConfig,), ["--config", str(path), "--lora", "false", "--seed", "7"])
    assert (config.learning_rate, config.lora, config.seed, config.generated) == (1e-3, False, 7, ["a", "b"])
    assert isinstance(config, FollowingConfig) and config.output_dir == "m"
    path.write_text(yaml.safe_dump({"learning_rat": 1}))
    with pytest.raises(ValueError, match="learning_rat"):
        parse("train", (FollowingConfig,), ["--config", str(path), "--output_dir", "m"])


def test_shipped_recipe_parses():
    """The recipe file's keys are GeneratorConfig fields, with no data path in it (the Hub id by default)."""
    recipe = RECIPES / "generator-dolly-smollm2.yaml"
    (config,) = parse("train-generator", (GeneratorConfig,), ["--config", str(recipe), "--output_dir", "m"])
    assert isinstance(config, GeneratorConfig)
    assert (config.lora, config.lora_layers, config.precision, config.max_seed_rows) == (True, 12, "bf16", 2000)
    assert (config.learning_rate, config.eval_steps, config.save_steps) == (3e-4, 125, 25)
    assert config.seed_data == "databricks/databricks-dolly-15k"
    (local,) = parse(
        "train-generator", (GeneratorConfig,), ["--config", str(recipe), "--output_dir", "m", "--seed_data", str(DOLLY)]
    )
    assert local.seed_data == str(DOLLY) and local.lora_layers == 12


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seed_data", "no/such/file.jsonl"], "no/such/file.jsonl"),
        (["--seed_data", str(DOLLY), "--instruction_column", "q", "--output_column", "response"], "'q'"),
        (["--seed_data", str(DOLLY), "--precision", "fp8"], "fp8"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, tmp_path, capsys):
    code = main(["train-generator", "--output_dir", str(tmp_path / "m"), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.splitlines()) == 1 or err.splitlines()[-1].startswith("hf-david train-generator: error:")


def test_existing_checkpoints_need_resume(tmp_path, capsys):
    (tmp_path / "m" / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    code = main(["train-generator", "--output_dir", str(tmp_path / "m"), "--seed_data", str(DOLLY)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--resume" in err and len(err.splitlines()) == 1


def test_model_card_lists_the_options_set_away_from_trl_defaults(trained_generator):
    record = json.loads((trained_generator / "hf_david_training.json").read_text())
    shown = record["hyperparameters_shown"]
    assert {"learning_rate", "base_model", "lora", "max_length"} <= set(shown)
    assert "adam_beta1" not in shown and "hub_token" not in shown  # TRL's defaults stay in the record only
    card = (trained_generator / "README.md").read_text()
    assert "learning_rate" in card and "adam_beta1" not in card
