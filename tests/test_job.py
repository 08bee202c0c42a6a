import json
import math
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import WIKITEXT
from datasets import load_from_disk
from tqdm.auto import tqdm

from hf_david.job import MANIFEST, Job, JobConfig, JobError
from hf_david.job.runner import run_stage
from hf_david.stages import REJECT_DETAIL, REJECT_REASON, REJECT_STAGE, Reason, Stage
from hf_david.stages.base import with_rejects


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "wiki.jsonl"
    with open(WIKITEXT) as src:
        path.write_text("".join(line for _, line in zip(range(12), src, strict=False)))
    return path


def cli(corpus: Path, out: Path, model: str) -> list[str]:
    return [
        sys.executable, "-m", "hf_david.cli", "generate", "--corpus", str(corpus), "--out", str(out),
        "--model", model, "--levels", "passage,keywords,sentence", "--k", "2",
        "--max-passages", "12", "--shard-size", "3", "--seed", "7", "--no-shape-check",
    ]  # fmt: skip


def manifest(out: Path) -> dict:
    return json.loads((out / MANIFEST).read_text())


def start_and_stop(cmd: list[str], out: Path, after_shards: int, sig: int) -> int:
    """Start a job, wait until `after_shards` shards are recorded, send `sig`, return the exit code."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / MANIFEST).is_file() and len(manifest(out)["shards"]) >= after_shards:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the job ended before it could be interrupted"
    proc.send_signal(sig)
    return proc.wait(timeout=120)


def test_interrupted_and_killed_jobs_resume_to_the_same_dataset(corpus, tiny_model, tmp_path):
    reference = tmp_path / "reference"
    subprocess.run(cli(corpus, reference, tiny_model), check=True, capture_output=True)

    out = tmp_path / "resumed"
    assert start_and_stop(cli(corpus, out, tiny_model), out, after_shards=1, sig=signal.SIGTERM) == 130
    assert manifest(out)["status"] == "interrupted"
    done_before_kill = len(manifest(out)["shards"])
    assert start_and_stop(cli(corpus, out, tiny_model), out, after_shards=done_before_kill + 1, sig=signal.SIGKILL)
    recorded = len(manifest(out)["shards"])
    subprocess.run(cli(corpus, out, tiny_model), check=True, capture_output=True)

    final = manifest(out)
    assert final["status"] == "complete" and [s["index"] for s in final["shards"]] == [0, 1, 2, 3]
    # Each shard was computed once, by the run that recorded it: only work in flight at the stops was redone.
    by_run = Counter(s["run"] for s in final["shards"])
    assert len(final["runs"]) == 3 and by_run[1] == done_before_kill and by_run[3] == 4 - recorded
    assert load_from_disk(str(out))["train"].to_list() == load_from_disk(str(reference))["train"].to_list()
    assert final["counts"] == manifest(reference)["counts"]


def small_config(corpus: Path, model: str, k: int = 2, **job) -> JobConfig:
    return JobConfig(
        corpus=str(corpus),
        shard_size=4,
        model=model,
        levels=["passage", "sentence"],
        max_passage_tokens=300,
        k=k,
        max_new_tokens=8,
        shape_check=False,
        **job,
    )


def test_bad_rows_are_rejected_and_good_rows_kept(corpus, tiny_model, tmp_path):
    good = [json.loads(line) for line in corpus.read_text().splitlines()[:6]]
    mixed = tmp_path / "mixed.jsonl"
    bad = [
        {"id": "none", "text": None},
        {"id": "int", "text": 12345},
        {"id": "empty", "text": ""},
        {"id": "huge", "text": "A sentence about rivers and seas. " * 30_000},
        {"id": "binary", "text": "".join(chr(i % 32) for i in range(2000))},
    ]
    lines = [json.dumps(row) for row in good[:3] + bad + good[3:]] + ["{not json"]
    mixed.write_text("\n".join(lines) + "\n")
    config = small_config(mixed, tiny_model, max_passages=None, id_column="id", long_passages="skip")
    data = Job(config, tmp_path / "out").run()

    assert {str(r["id"]) for r in good} <= set(data["train"]["source_id"])
    assert all(math.isfinite(ifd) and ifd > 0 for ifd in data["train"]["ifd"])  # every kept row has its IFD
    reasons = dict(zip(data["rejects"]["source_id"], data["rejects"]["reason"], strict=True))
    details = dict(zip(data["rejects"]["source_id"], data["rejects"]["detail"], strict=True))
    assert reasons["none"] == "text_missing" and details["none"] == "text is None"
    assert reasons["int"] == "text_not_string" and details["int"] == "text is int, not str"
    assert reasons["empty"] == "text_empty" and details["empty"] == "text is empty"
    assert reasons["huge"] == "passage_too_long" and details["huge"] == "passage longer than 300 tokens"
    assert reasons["binary"] == "text_binary" and details["binary"] == "text is binary or mostly non-printable"
    unreadable = [
        d for r, d in zip(data["rejects"]["reason"], data["rejects"]["detail"], strict=True) if r == "unreadable_row"
    ]
    assert len(unreadable) == 1 and "line 12: invalid JSON" in unreadable[0]
    final = manifest(tmp_path / "out")
    assert final["counts"]["rejects_by_stage"]["extract"] == 5 and final["stats"]["extract"]["rows_in"] == 11
    assert (
        final["stats"]["extract"]["rejects"]["text_missing"] == 1
        and final["counts"]["rejects_by_reason"]["text_empty"] == 1
    )
    assert (tmp_path / "out" / "README.md").is_file() and (tmp_path / "out" / "train.jsonl").is_file()


def test_a_changed_config_is_refused(corpus, tiny_model, tmp_path):
    Job(small_config(corpus, tiny_model, max_passages=2), tmp_path / "out").run()
    with pytest.raises(JobError, match=r"different config \(changed: k\)"):
        Job(small_config(corpus, tiny_model, k=3, max_passages=2), tmp_path / "out")
    data = Job(small_config(corpus, tiny_model, k=3, max_passages=2), tmp_path / "out", overwrite=True).run()
    assert manifest(tmp_path / "out")["config"]["k"] == 3 and len(data["train"]) > 0


def test_a_mostly_bad_corpus_stops_the_job(tiny_model, tmp_path):
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text("\n".join(json.dumps({"text": None}) for _ in range(8)) + "\n")
    with pytest.raises(JobError, match=r"100% of rows were rejected .*text_missing \(4\)"):
        Job(small_config(corpus, tiny_model, max_passages=None), tmp_path / "out").run()
    assert manifest(tmp_path / "out")["status"] == "failed"


def test_missing_column_fails_before_any_model_loads(corpus, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hf_david.cli", "generate", "--corpus", str(corpus), "--text-column", "body",
         "--model", "no/such-model", "--out", str(tmp_path / "out")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2
    assert "column 'body' not found in the corpus" in result.stderr and "Traceback" not in result.stderr


class Picky(Stage):
    """A real stage that raises on one output and records every row it is given."""

    name = "picky"

    def __init__(self, config=None) -> None:
        super().__init__(config)
        self.seen: list[str] = []

    def apply(self, batch: dict[str, list]) -> dict[str, list]:
        self.seen += batch["output"]
        if "boom" in batch["output"]:
            raise RuntimeError("cannot handle boom")
        return with_rejects({**batch, "kept": [True] * len(batch["output"])}, self.name, {})


def test_run_stage_isolates_a_raising_row_and_carries_rejected_rows():
    batch = with_rejects({"output": ["a", "boom", "b", "c"]}, "extract", {3: (Reason.TEXT_EMPTY, "text is empty")})
    stage = Picky()
    out = run_stage(stage, batch, tqdm(disable=True))
    rows = {
        o: (s, r, d)
        for o, s, r, d in zip(out["output"], out[REJECT_STAGE], out[REJECT_REASON], out[REJECT_DETAIL], strict=True)
    }
    assert rows["c"] == ("extract", "text_empty", "text is empty")  # carried past the stage, never given to it
    assert "c" not in stage.seen and stage.seen.count("boom") == 2  # the slice, then the row alone
    assert rows["boom"] == ("picky", "stage_error", "RuntimeError: cannot handle boom")
    assert rows["a"] == rows["b"] == ("", "", "")
    assert out["output"][0] == "c" and out["kept"][0] is None  # rejects first, in stage order
