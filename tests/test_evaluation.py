"""Benchmark loaders, Tk-Instruct prompts and the `hf-david evaluate` runner (tiny real model, packaged data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DOLLY

from dataset_scripts import longform, superni
from hf_david.cli import main as cli
from hf_david.evaluation import EvalConfig, evaluate_model, render_prompts, tk_instruct_prompt
from hf_david.models import load_tokenizer

SUBSET = superni.PACKAGED_SUBSET
ROW = {
    "definition": "Answer the question ",
    "positive_examples": [
        {"input": "What is 1+1", "output": "2"},
        {"input": "Capital of France?", "output": "Paris!"},
        {"input": "unused third example", "output": "x"},
    ],
    "input": "  What is 2+2  ",
}


def test_tk_instruct_prompts_match_the_collator_format():
    # Definition only: "." is appended to fields that do not end in punctuation, "Output: " ends the prompt.
    assert tk_instruct_prompt(ROW, "def") == (
        "Definition: Answer the question.\n\nNow complete the following example -\nInput: What is 2+2.\nOutput: "
    )
    assert tk_instruct_prompt(ROW, "def+2pos") == (
        "Definition: Answer the question.\n\n"
        " Positive Example 1 -\nInput: What is 1+1.\n Output: 2.\n\n"
        " Positive Example 2 -\nInput: Capital of France?\n Output: Paris!\n\n"
        "Now complete the following example -\nInput: What is 2+2.\nOutput: "
    )
    # Tk-Instruct adds an example only while the prompt still fits.
    short = tk_instruct_prompt(ROW, "def+2pos", fits=lambda text: "Example 2" not in text)
    assert "Positive Example 1" in short and "Positive Example 2" not in short
    with pytest.raises(ValueError, match="prompt setting"):
        tk_instruct_prompt(ROW, "def+5pos")


def test_load_superni_packaged_subset():
    ds = superni.load_superni()
    assert len(ds) == 1022 and len(set(ds["task_name"])) == 104
    assert all(len(r) == 2 for r in ds["positive_examples"])
    # Round-robin truncation: one instance of every task before a second of any.
    head = superni.load_superni(max_instances=110)
    counts = {t: head["task_name"].count(t) for t in set(head["task_name"])}
    assert len(head) == 110 and len(counts) == 104 and max(counts.values()) == 2


def test_load_superni_from_a_natural_instructions_clone(tmp_path):
    rows = [json.loads(line) for line in SUBSET.open()][:20]
    tasks = list(dict.fromkeys(r["task_name"] for r in rows))
    (tmp_path / "splits" / "default").mkdir(parents=True)
    (tmp_path / "splits" / "default" / "test_tasks.txt").write_text("\n".join(tasks) + "\n")
    (tmp_path / "tasks").mkdir()
    for task in tasks:
        mine = [r for r in rows if r["task_name"] == task]
        task_json = {
            "Definition": [mine[0]["definition"]],
            "Positive Examples": mine[0]["positive_examples"],
            "Categories": [mine[0]["task_category"]],
            "Instances": [{"id": r["id"], "input": r["input"], "output": r["references"]} for r in mine],
        }
        (tmp_path / "tasks" / f"{task}.json").write_text(json.dumps(task_json))
    ds = superni.load_superni(tmp_path)
    assert ds["id"] == [r["id"] for r in rows] and ds["references"] == [r["references"] for r in rows]
    assert tk_instruct_prompt(ds[3]) == tk_instruct_prompt(rows[3])


def test_load_superni_bad_data_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="SuperNI data not found"):
        superni.load_superni(tmp_path / "missing")
    lines = SUBSET.read_text().splitlines()[:3]
    bad = json.loads(lines[1])
    del bad["references"]
    (tmp_path / "a.jsonl").write_text("\n".join([lines[0], json.dumps(bad), lines[2]]) + "\n")
    with pytest.raises(ValueError, match=r"a\.jsonl:2: missing field 'references'"):
        superni.load_superni(tmp_path / "a.jsonl")
    (tmp_path / "b.jsonl").write_text(lines[0] + "\n{not json\n")
    with pytest.raises(ValueError, match=r"b\.jsonl:2: not valid JSON"):
        superni.load_superni(tmp_path / "b.jsonl")


def _longform_fixture(path: Path, n: int = 9) -> list[dict]:
    """Rows in LongForm's format (input = instruction, output, source) made from real Dolly rows."""
    dolly = [json.loads(line) for line in DOLLY.open()][:n]
    sources = ["C4", "Wikipedia", "StackExchange"]
    rows = [{"input": r["instruction"], "output": r["response"], "source": sources[i % 3]} for i, r in enumerate(dolly)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def test_load_longform_local_and_hub(tmp_path, hub):
    from datasets import Dataset

    rows = _longform_fixture(tmp_path / "test.jsonl")
    ds = longform.load_longform(tmp_path / "test.jsonl")
    assert ds.column_names == ["id", "input", "output", "source"] and ds["output"] == [r["output"] for r in rows]
    Dataset.from_list(rows).push_to_hub("alice/LongForm", split="test", token="alice-write")
    assert longform.load_longform("alice/LongForm")["input"] == [r["input"] for r in rows]
    with pytest.raises(FileNotFoundError, match="could not be loaded from the Hub"):
        longform.load_longform("alice/no-such-dataset")


def test_load_longform_bad_rows(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"input": "q", "output": "a", "src": "C4"}) + "\n")
    with pytest.raises(ValueError, match=r"missing columns \['source'\]"):
        longform.load_longform(tmp_path / "a.jsonl")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"input": "q", "output": "a", "source": "C4"})
        + "\n"
        + json.dumps({"input": "q", "output": " ", "source": "C4"})
        + "\n"
    )
    with pytest.raises(ValueError, match="row 1: field 'output' must be a non-empty string"):
        longform.load_longform(tmp_path / "b.jsonl")


def test_dolly_heldout_proxy_rows(tmp_path):
    ds = longform.load_dolly_heldout()  # the packaged rows
    dolly = {r["dolly_row"]: r for r in map(json.loads, DOLLY.open())}
    rows = [int(i.removeprefix("dolly-")) for i in ds["id"]]
    assert rows and all(6200 <= r <= 6399 for r in rows)
    assert all(len(dolly[r]["response"].split()) >= 50 for r in rows)
    assert ds["output"] == [dolly[r]["response"] for r in rows] and set(ds["source"]) == {"dolly-heldout"}
    assert rows == [r for r in range(6200, 6400) if len(dolly[r]["response"].split()) >= 50]
    # A given file (the fixture holds rows 0-99 too) or a folder holding the team copy gives the same rows.
    assert longform.load_dolly_heldout(DOLLY).to_list() == ds.to_list()
    team = tmp_path / longform.DOLLY_FILE
    team.parent.mkdir(parents=True)
    team.write_text(DOLLY.read_text())
    assert longform.load_dolly_heldout(tmp_path).to_list() == ds.to_list()


def test_render_prompts_uses_the_chat_template_and_truncates(tiny_model):
    tokenizer = load_tokenizer(tiny_model)
    [chat] = render_prompts(["Say hi."], tokenizer, max_prompt_tokens=100)
    assert chat.startswith("<|im_start|>") and "<|im_start|>user\nSay hi.<|im_end|>" in chat
    assert chat.endswith("<|im_start|>assistant\n")
    [cut] = render_prompts(["one two three four five six"], tokenizer, max_prompt_tokens=2)
    assert "user\none two<|im_end|>" in cut


def test_evaluate_superni_end_to_end(tiny_model, tmp_path):
    config = EvalConfig(model=tiny_model, max_instances=3, batch_size=2, max_new_tokens=3)  # packaged subset
    result = evaluate_model(config, tmp_path)
    preds = [json.loads(line) for line in (tmp_path / "predictions.jsonl").open()]
    assert len(preds) == result["instances"] == 3
    assert all(p["prompt"].endswith("<|im_start|>assistant\n") and "Positive Example 2" in p["prompt"] for p in preds)
    metrics = json.loads((tmp_path / "metrics.json").read_text())["metrics"]
    # The overall score is the mean of the per-instance scores written next to each prediction.
    assert metrics["rougeL"] == round(100 * sum(p["rougeL"] for p in preds) / 3, 4)
    assert sum(v["count"] for v in metrics["per_category"].values()) == 3
    table = (tmp_path / "results.md").read_text()
    assert all(f"| {category} |" in table for category in metrics["per_category"])


def test_cli_evaluate_dolly_heldout_and_errors(tiny_model, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["evaluate", "--model", tiny_model, "--benchmark", "dolly-heldout"]  # the packaged rows
    assert cli([*args, "--max-instances", "2", "--max-new-tokens", "4", "--out", str(out)]) == 0
    assert "| dolly-heldout | 2 |" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["label"].startswith("Dolly held-out") and "PROXY" in metrics["label"]
    assert set(metrics["metrics"]["per_source"]) == {"dolly-heldout"}
    assert metrics["command"].startswith(f"hf-david evaluate --model {tiny_model} --benchmark dolly-heldout")
    assert cli(["evaluate", "--model", tiny_model, "--data", str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert "SuperNI data not found" in capsys.readouterr().err
    # Options come from EvalConfig: underscores work too, a YAML file via --config, bad values exit 2.
    config = tmp_path / "eval.yaml"
    config.write_text(f"model: {tiny_model}\ndata: {tmp_path / 'nope'}\n")
    assert cli(["evaluate", "--config", str(config), "--max_instances", "1", "--out", str(out)]) == 2
    assert "SuperNI data not found" in capsys.readouterr().err
    assert cli(["evaluate", "--model", tiny_model, "--batch-size", "0"]) == 2
    assert "batch_size must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad_choice:
        cli(["evaluate", "--model", tiny_model, "--benchmark", "mmlu"])
    assert bad_choice.value.code == 2


def test_dolly_heldout_context_goes_into_the_follower_turn(tmp_path):
    """Hub-style Dolly keeps its context as a column; the prompt is the follower's user turn, as in training."""
    from hf_david.evaluation import load_benchmark

    response = " ".join(["word"] * 60)
    rows = [
        {"dolly_row": 6200, "instruction": "Summarize.", "context": "Bees make honey.", "response": response},
        {"dolly_row": 6201, "instruction": "Explain bees.", "context": "", "response": response},
    ]
    path = tmp_path / "dolly.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert longform.load_dolly_heldout(path)["context"] == ["Bees make honey.", ""]
    ds = load_benchmark(EvalConfig(model="unused", benchmark="dolly-heldout", data=str(path)))
    assert ds["source_text"] == ["Summarize.\n\nBees make honey.", "Explain bees."]
