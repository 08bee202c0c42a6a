"""SuperNI (NIv2) English test set: the instances and the round-robin truncation used by evaluation.

`load_superni(path)` returns one row per instance, with columns
`id, task_name, definition, positive_examples ([{input, output}]), input, references ([str]), task_category`.
Sources, in the order they are tried for `path`:
- nothing (`None`): the packaged subset `data/superni/test_subset.jsonl` (1,022 instances of 104 tasks;
  provenance and licence in that folder);
- a folder with `test_subset.jsonl`, or a jsonl file in that same row format;
- a clone of allenai/natural-instructions (`splits/default/test_tasks.txt` + `tasks/<task>.json`): the first
  100 instances of each test task, as `eval/leaderboard/create_reference_file.py` selects them.
`PROMPT_SETTINGS` names Tk-Instruct's evaluation settings and how many positive examples each shows; the
prompt itself is rendered by `hf_david.evaluation`.
"""

from __future__ import annotations

import json
from pathlib import Path

from datasets import Dataset

from dataset_scripts.readers import json_lines

PROMPT_SETTINGS = {"def": 0, "def+2pos": 2}
FIELDS = ("id", "task_name", "definition", "positive_examples", "input", "references", "task_category")
INSTANCES_PER_TASK = 100  # create_reference_file.py keeps the first 100 instances of each test task
PACKAGED_SUBSET = Path(__file__).resolve().parent / "data" / "superni" / "test_subset.jsonl"


def _check_row(row: dict, where: str) -> dict:
    for field in FIELDS:
        if field not in row:
            raise ValueError(f"{where}: missing field {field!r}")
    for field in ("id", "task_name", "definition", "input", "task_category"):
        if not isinstance(row[field], str):
            raise ValueError(f"{where}: field {field!r} must be a string, got {type(row[field]).__name__}")
    refs = row["references"]
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
        raise ValueError(f"{where}: field 'references' must be a non-empty list of strings")
    examples = row["positive_examples"]
    if not isinstance(examples, list) or not all(
        isinstance(e, dict) and isinstance(e.get("input"), str) and isinstance(e.get("output"), str) for e in examples
    ):
        raise ValueError(f"{where}: field 'positive_examples' must be a list of {{input, output}} strings")
    return {
        **{f: row[f] for f in FIELDS if f != "positive_examples"},
        "positive_examples": [{"input": e["input"], "output": e["output"]} for e in examples],
    }


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for line_no, value in json_lines(path):
        if isinstance(value, json.JSONDecodeError):
            raise ValueError(f"{path}:{line_no}: not valid JSON ({value.msg})")
        if not isinstance(value, dict):
            raise ValueError(f"{path}:{line_no}: expected a JSON object")
        rows.append(_check_row(value, f"{path}:{line_no}"))
    return rows


def _read_task_files(root: Path) -> list[dict]:
    rows = []
    for task in (root / "splits" / "default" / "test_tasks.txt").read_text().split():
        path = root / "tasks" / f"{task}.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: task file listed in splits/default/test_tasks.txt is missing")
        data = json.loads(path.read_text(encoding="utf-8"))
        for i, instance in enumerate(data["Instances"][:INSTANCES_PER_TASK]):
            row = {
                "id": instance["id"],
                "task_name": task,
                "definition": data["Definition"][0],
                "positive_examples": data["Positive Examples"][:2],
                "input": instance["input"],
                "references": instance["output"],
                "task_category": data["Categories"][0],
            }
            rows.append(_check_row(row, f"{path}: instance {i}"))
    return rows


def load_superni(path: str | Path | None = None, max_instances: int | None = None) -> Dataset:
    """The SuperNI test instances (packaged subset by default), optionally the first `max_instances`
    taken round-robin over tasks. Raises FileNotFoundError or ValueError naming the file and line."""
    path = Path(path) if path is not None else PACKAGED_SUBSET
    if path.is_dir() and (path / "test_subset.jsonl").is_file():
        rows = _read_jsonl(path / "test_subset.jsonl")
    elif path.is_dir() and (path / "splits" / "default" / "test_tasks.txt").is_file():
        rows = _read_task_files(path)
    elif path.is_file():
        rows = _read_jsonl(path)
    else:
        raise FileNotFoundError(
            f"SuperNI data not found at {path}: expected a folder with test_subset.jsonl, a jsonl file in "
            "that format, or a natural-instructions clone (splits/default/test_tasks.txt + tasks/)"
        )
    if not rows:
        raise ValueError(f"{path}: no SuperNI instances")
    if max_instances is not None:
        rows = [rows[i] for i in round_robin([r["task_name"] for r in rows], max_instances)]
    return Dataset.from_list(rows)


def round_robin(groups: list[str], n: int) -> list[int]:
    """Indices of the first `n` rows taken one per group in turn (each group in file order), sorted.

    A truncated benchmark then still covers every task/source instead of only the first few.
    """
    if n < 1:
        raise ValueError(f"max_instances must be >= 1, got {n}")
    queues: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        queues.setdefault(group, []).append(i)
    picked: list[int] = []
    depth = 0
    while len(picked) < min(n, len(groups)):
        for queue in queues.values():
            if depth < len(queue) and len(picked) < n:
                picked.append(queue[depth])
        depth += 1
    return sorted(picked)
