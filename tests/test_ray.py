"""`hf-david generate --ray`: on a private local Ray cluster (2 CPUs) the job gives the local job's output row
for row, resumes after an interruption without redoing committed shards, and says how to install Ray when
it is missing."""

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import WIKITEXT
from datasets import load_from_disk

from hf_david.job import MANIFEST, Job, JobConfig
from hf_david.ray import RayOptions, generate

# The default engine (OpenVINO on the CPU): its samples depend on the batch alone, so actors reproduce the local job.
SETTINGS = {
    "levels": ["passage", "sentence"], "k": 2, "max_new_tokens": 8, "max_passage_tokens": 300,
    "shape_check": False, "id_column": "id", "shard_size": 2, "max_passages": 0, "seed": 3,
}  # fmt: skip
BAD_ROWS = [{"id": "none", "text": None}, {"id": "int", "text": 12345}, {"id": "empty", "text": ""}]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A Ray cluster of this test module only: 2 CPUs, its own temp dir, no dashboard."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, _temp_dir=str(tmp_path_factory.mktemp("ray")), include_dashboard=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """10 WikiText paragraphs with bad rows among them and an invalid JSON line: 7 shards of 2."""
    good = [json.loads(line) for line in WIKITEXT.read_text().splitlines()[:10]]
    lines = [json.dumps(row) for row in good[:3] + BAD_ROWS + good[3:]] + ["{not json"]
    path = tmp_path_factory.mktemp("corpus") / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def reference(corpus, tiny_model, tmp_path_factory) -> Path:
    """The local job's folder on the same corpus and config."""
    out = tmp_path_factory.mktemp("reference") / "out"
    Job(JobConfig(corpus=str(corpus), model=tiny_model, **SETTINGS), out).run()
    return out


def manifest(out: Path) -> dict:
    return json.loads((out / MANIFEST).read_text())


def assert_same_output(out: Path, reference: Path) -> None:
    """Both splits equal row for row and column for column (in the same order), and the same counts and stats."""
    data, expected = load_from_disk(str(out)), load_from_disk(str(reference))
    for split in ("train", "rejects"):
        assert data[split].features == expected[split].features
        assert data[split].to_list() == expected[split].to_list(), split
    got, want = manifest(out), manifest(reference)
    assert got["counts"] == want["counts"] and got["config_hash"] == want["config_hash"]
    for name, stats in want["stats"].items():
        without_time = {k: v for k, v in stats.items() if k not in ("seconds", "tokens_per_second")}
        assert {k: got["stats"][name][k] for k in without_time} == without_time, name
    assert (out / "README.md").is_file()
    assert (out / "train.jsonl").read_text() == (reference / "train.jsonl").read_text()


def cli_args(settings: dict) -> list[str]:
    """`hf-david generate` options for the same settings as `JobConfig(**settings)`."""
    args = []
    for key, value in settings.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            args.append(flag if value else f"--no-{flag[2:]}")
        else:
            args += [flag, ",".join(value) if isinstance(value, list) else str(value)]
    return args


def test_a_cluster_job_interrupted_and_resumed_equals_the_local_job_row_for_row(
    cluster, corpus, tiny_model, reference, tmp_path
):
    out = tmp_path / "out"
    cmd = [
        sys.executable, "-m", "hf_david.cli", "generate", "--ray", cluster, "--ray-actors", "1", "generate=2",
        "--corpus", str(corpus), "--out", str(out), "--model", tiny_model, *cli_args(SETTINGS),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / MANIFEST).is_file() and manifest(out)["shards"]:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the job ended before it could be interrupted: {proc.stderr.read()[-2000:]}"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 130, proc.stderr.read()[-2000:]
    interrupted = manifest(out)
    assert interrupted["status"] == "interrupted" and 1 <= len(interrupted["shards"]) < 7

    # The library entry point, on the cluster this process is connected to, with one actor per stage.
    generate(JobConfig(corpus=str(corpus), model=tiny_model, **SETTINGS), out, RayOptions(ray=""))

    final = manifest(out)
    by_run = Counter(s["run"] for s in final["shards"])
    assert len(final["runs"]) == 2 and by_run == {1: len(interrupted["shards"]), 2: 7 - len(interrupted["shards"])}
    assert [s["index"] for s in final["shards"]] == list(range(7))
    assert_same_output(out, reference)
    rejects = Counter(final["counts"]["rejects_by_reason"])
    assert rejects["unreadable_row"] == 1 and rejects["text_missing"] == rejects["text_empty"] == 1


def test_actor_pools_per_stage():
    stages = ["extract", "generate", "filter"]
    pools = RayOptions(ray_actors=["1", "generate=2"], ray_num_gpus=["filter=0.5"]).pools(stages, cluster_cpus=2)
    assert [p["actors"] for p in pools] == [1, 2, 1] and [p["num_gpus"] for p in pools] == [0, 0, 0.5]
    assert [p["num_cpus"] for p in pools] == [0.5] * 3  # 2 CPUs shared among 4 actors
    pools = RayOptions(ray_num_cpus=["2", "extract=1"]).pools(stages, cluster_cpus=16)
    assert [p["num_cpus"] for p in pools] == [1, 2, 2]
    with pytest.raises(ValueError, match=r"--ray-actors gen=2: no stage 'gen'; the stages are"):
        RayOptions(ray_actors=["gen=2"]).pools(stages, cluster_cpus=2)
    with pytest.raises(ValueError, match=r"--ray-actors 0.5: not a whole number >= 1"):
        RayOptions(ray_actors=["0.5"]).pools(stages, cluster_cpus=2)


def test_without_ray_the_option_names_the_extra_and_nothing_imports_ray(corpus, tmp_path):
    script = (
        "import sys, hf_david.cli.generate, hf_david.ray\n"
        "assert 'ray' not in sys.modules, 'ray imported without --ray'\n"
        "sys.modules['ray'] = None  # what `import ray` meets when Ray is not installed\n"
        "from hf_david.cli import main\n"
        f"sys.exit(main(['generate', '--ray', '--corpus', {str(corpus)!r}, '--out', {str(tmp_path / 'out')!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert "--ray needs Ray Data" in result.stderr and "pip install 'hf-david[ray]'" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
