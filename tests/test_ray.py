"""`hf-david generate --ray`: on a private local Ray cluster (2 CPUs) the job gives the local job's output row
for row, resumes after an interruption without redoing committed shards, reads parquet and JSON Lines folders
and a Hub parquet dataset with Ray Data's readers in the local job's order, and says how to install Ray when
it is missing."""

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import WIKITEXT
from datasets import load_from_disk

from hf_david.job import MANIFEST, Job, JobConfig
from hf_david.ray import RayOptions, generate
from hf_david.ray.readers import corpus_rows, ray_source

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


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """5 paragraphs and bad rows as a parquet folder and a JSON Lines folder of two files each; the JSON Lines
    folder also has a number as text and an invalid line, which Ray's JSON reader cannot read."""
    good = [json.loads(line) for line in WIKITEXT.read_text().splitlines()[:5]]
    first, second = good[:2] + BAD_ROWS[::2] + good[2:3], good[3:]  # None and "" text in the first file
    root = tmp_path_factory.mktemp("folders")
    for kind in ("parquet", "jsonl"):
        (root / kind).mkdir()
    for n, rows in enumerate((first, second)):
        pq.write_table(pa.Table.from_pylist(rows), root / "parquet" / f"part-{n}.parquet")
    (root / "jsonl" / "part-0.jsonl").write_text("".join(json.dumps(row) + "\n" for row in first))
    lines = [json.dumps(row) for row in second[:2] + BAD_ROWS[1:2] + second[2:]] + ["{not json"]
    (root / "jsonl" / "part-1.jsonl").write_text("\n".join(lines) + "\n")
    return {"parquet": root / "parquet", "jsonl": root / "jsonl"}


@pytest.mark.parametrize("kind", ["parquet", "jsonl"])
def test_folders_read_by_ray_data_give_the_local_job_output_row_for_row(
    kind, cluster, folders, tiny_model, tmp_path, capfd
):
    checks_off = {"decontaminate": False, "grounding": False, "dedup": False}  # 4 actors: the reader is under test
    config = JobConfig(corpus=str(folders[kind]), model=tiny_model, **SETTINGS, **checks_off)
    Job(config, tmp_path / "local").run()
    capfd.readouterr()
    generate(config, tmp_path / "ray", RayOptions(ray=""))
    assert_same_output(tmp_path / "ray", tmp_path / "local")
    fallback = "the local reader reads the rest on the driver" in capfd.readouterr().err
    # Parquet is read by Ray Data only; the invalid JSON line makes the local reader take over (same rows).
    assert fallback == (kind == "jsonl")
    rejects = Counter(manifest(tmp_path / "ray")["counts"]["rejects_by_reason"])
    assert rejects["text_missing"] == rejects["text_empty"] == 1
    assert rejects["unreadable_row"] == (1 if kind == "jsonl" else 0)


def test_a_hub_dataset_is_read_by_ray_data_in_the_local_order(cluster, hub, tiny_model, capfd):
    import ray
    from datasets import Dataset
    from huggingface_hub import HfApi

    rows = [json.loads(line) for line in WIKITEXT.read_text().splitlines()[:12]] + BAD_ROWS[::2]
    Dataset.from_list(rows).push_to_hub("alice/ray-corpus", token="alice-write", max_shard_size="8KB")
    assert sum(f.endswith(".parquet") for f in HfApi().list_repo_files("alice/ray-corpus", repo_type="dataset")) == 3
    for max_passages in (0, 5):
        config = JobConfig(corpus="alice/ray-corpus", model=tiny_model, max_passages=max_passages)
        assert ray_source(ray, config)[1]["text"] == pa.string()  # read by Ray Data, checked against the features
        got = list(corpus_rows(ray, config, ["text", "id"], config.corpus_source.rows()))
        local = list(config.corpus_source.rows())
        assert got == local[: max_passages or None] and [r["text"] for r in local] == [r["text"] for r in rows]
    assert "the local reader reads the rest" not in capfd.readouterr().err


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
