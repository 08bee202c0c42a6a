"""Publish and pull over real HTTP: the unmodified huggingface_hub/datasets/transformers clients against
the loopback Hub of tests/hub_server.py (started by the `hub` fixture; HF_ENDPOINT set in conftest.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DOLLY, WIKITEXT
from huggingface_hub import DatasetCard, HfApi, ModelCard, hf_hub_download, metadata_update
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from test_cards import make_job, snapshot, write_loss_curve

from hf_david.artifacts import JOB_MANIFEST, LOSS_CURVE, TRAINING_MANIFEST
from hf_david.cli import main as cli
from hf_david.publish import cards
from hf_david.publish import hub as david_hub

WRITE, READ, OTHER = "alice-write", "alice-read", "bob-write"


@pytest.fixture
def job(tmp_path) -> Path:
    return make_job(tmp_path / "job", WIKITEXT)


def hub_push(folder: Path, repo_id: str, token: str = WRITE, **kwargs) -> david_hub.PushResult:
    return david_hub.push(folder, repo_id, token=token, base_delay=0.01, **kwargs)


def _rows(ds) -> list[dict]:
    return [dict(row) for row in ds]


def test_dataset_round_trip(hub, job, tmp_path):
    from datasets import load_dataset, load_from_disk

    assert hub_push(job, "alice/wiki-instructions").kind == "dataset"
    local = load_from_disk(str(job))
    train = load_dataset("alice/wiki-instructions", split="train")
    rejects = load_dataset("alice/wiki-instructions", "rejects", split="rejects")
    assert train.features == local["train"].features and _rows(train) == _rows(local["train"])
    assert rejects.features == local["rejects"].features and _rows(rejects) == _rows(local["rejects"])
    both = david_hub.pull_dataset("alice/wiki-instructions")
    assert sorted(both) == ["rejects", "train"] and _rows(both["train"]) == _rows(local["train"])

    api = HfApi()
    files = api.list_repo_files("alice/wiki-instructions", repo_type="dataset")
    assert {
        "data/train-00000-of-00001.parquet",
        "rejects/rejects-00000-of-00001.parquet",
        "README.md",
        *cards.DATASET_IMAGES,
    } <= set(files)
    assert JOB_MANIFEST not in files  # the manifest holds local paths: never published
    info = api.get_paths_info("alice/wiki-instructions", ["data/train-00000-of-00001.parquet"], repo_type="dataset")
    assert info[0].lfs is not None  # parquet goes through LFS, as on the real Hub
    rendered = cards.write_dataset_card(job, repo_id="alice/wiki-instructions", dest=tmp_path / "card").parent
    for image in cards.DATASET_IMAGES:
        path = hf_hub_download("alice/wiki-instructions", image, repo_type="dataset")
        assert Path(path).read_bytes() == (rendered / image).read_bytes()
    card = DatasetCard.load("alice/wiki-instructions")
    assert card.data.license == "cc-by-sa-3.0" and "hf-david" in card.data.tags
    assert {c["config_name"] for c in card.data.configs} == {"default", "rejects"}
    assert 'load_dataset("alice/wiki-instructions"' in card.text
    assert len(api.list_repo_commits("alice/wiki-instructions", repo_type="dataset")) == 2  # create + push


def test_repush_is_idempotent_and_keeps_user_metadata(hub, job, tmp_path, monkeypatch):
    from datasets import load_dataset

    repo = "alice/repush"
    api = HfApi()
    monkeypatch.setattr(david_hub, "MAX_SHARD_BYTES", 4000)  # several shards, to check stale ones get deleted
    hub_push(job, repo)
    first = api.list_repo_files(repo, repo_type="dataset")
    assert len([f for f in first if f.startswith("data/train-")]) > 1
    head = api.repo_info(repo, repo_type="dataset").sha

    hub_push(job, repo)  # same folder again: nothing changed, no commit
    assert api.repo_info(repo, repo_type="dataset").sha == head

    metadata_update(
        repo,
        {"annotations_creators": ["machine-generated"], "tags": ["my-own-tag"]},
        repo_type="dataset",
        token=WRITE,
        overwrite=True,
    )
    n_commits = len(api.list_repo_commits(repo, repo_type="dataset"))
    monkeypatch.undo()
    new_job = make_job(tmp_path / "job2", WIKITEXT, n=8, seed=1)
    hub_push(new_job, repo)

    commits = api.list_repo_commits(repo, repo_type="dataset")
    assert len(commits) == n_commits + 1  # data, card and images in one commit
    files = api.list_repo_files(repo, repo_type="dataset")
    assert [f for f in files if f.startswith("data/")] == ["data/train-00000-of-00001.parquet"]
    card = DatasetCard.load(repo)
    assert card.data.annotations_creators == ["machine-generated"]
    assert "my-own-tag" in card.data.tags and "hf-david" in card.data.tags
    assert "8 kept" in card.text
    train = load_dataset(repo, split="train")
    assert len(train) == 8 and all("(v1)" in c[-1] for c in train["candidates"])


def test_transient_errors_are_retried(hub, job):
    hub.state.fail_next += [
        ("POST", r"/api/repos/create", 502),
        ("POST", r"/api/datasets/alice/flaky/commit/main", 503),
    ]
    hub_push(job, "alice/flaky")
    assert not hub.state.fail_next  # both failures were hit, and the push still went through
    assert "README.md" in HfApi().list_repo_files("alice/flaky", repo_type="dataset")


def _training_dir(tiny_model: str, tmp_path: Path) -> Path:
    """A model folder as the training recipe leaves it: weights, tokenizer, manifest and loss curve."""
    model_dir = tmp_path / "sft"
    shutil.copytree(tiny_model, model_dir)
    log = [{"step": 1, "loss": 2.0}, {"step": 3, "loss": 1.2}]
    dataset = {"name": "alice/wiki-instructions", "source": "hub", "rows": 12, "license": "cc-by-sa-3.0"}
    manifest = {
        "base_model": "smollm2-135m-instruct",
        "datasets": [dataset],
        "train_loss": 1.2,
        "hyperparameters": {"learning_rate": 1e-4, "max_steps": 3},
        "log_history": log,
        "command": f"hf-david train --out {model_dir}",
    }
    (model_dir / TRAINING_MANIFEST).write_text(json.dumps(manifest))
    write_loss_curve(model_dir, log)
    return model_dir


def test_model_round_trip(hub, tiny_model, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from hf_david.models import load_model

    model_dir = _training_dir(tiny_model, tmp_path)
    (model_dir / "training_args.bin").write_bytes(f"output_dir={model_dir}".encode())
    first = hub_push(model_dir, "alice/tiny-sft")
    assert first.kind == "model" and hub_push(model_dir, "alice/tiny-sft").commit == first.commit  # no-op
    files = HfApi().list_repo_files("alice/tiny-sft")
    assert "model.safetensors" in files and LOSS_CURVE in files and TRAINING_MANIFEST not in files
    assert "training_args.bin" not in files  # Trainer's pickled arguments hold local paths
    assert HfApi().get_paths_info("alice/tiny-sft", ["model.safetensors"])[0].lfs is not None
    card = ModelCard.load("alice/tiny-sft")
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert card.data.datasets == ["alice/wiki-instructions"] and str(tmp_path) not in str(card)

    original = AutoModelForCausalLM.from_pretrained(tiny_model)
    pulled = AutoModelForCausalLM.from_pretrained("alice/tiny-sft")
    for (name, a), (_, b) in zip(original.state_dict().items(), pulled.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    # --generator / --scorer take Hub ids: hf_david's loader resolves them through the Hub cache
    model, tokenizer = load_model("alice/tiny-sft")
    assert torch.equal(model.model.embed_tokens.weight, original.model.embed_tokens.weight)
    assert tokenizer.padding_side == "left" and tokenizer.chat_template


def test_private_repo_auth(hub, job, tmp_path):
    from datasets import load_dataset

    repo = "alice/secret"
    hub_push(job, repo, private=True)
    assert HfApi().repo_info(repo, repo_type="dataset", token=READ).private

    def download(token, cache):  # a fresh cache dir each time: a cached copy would hide a refusal
        return hf_hub_download(repo, "README.md", repo_type="dataset", token=token, cache_dir=tmp_path / cache)

    with pytest.raises(RepositoryNotFoundError) as anonymous:
        download(False, "anon")
    assert anonymous.value.response.status_code == 401
    with pytest.raises(RepositoryNotFoundError) as stranger:
        download(OTHER, "bob")
    assert stranger.value.response.status_code == 404
    assert Path(download(READ, "alice")).read_text().startswith("---")
    assert len(load_dataset(repo, split="train", token=READ, cache_dir=str(tmp_path / "ds"))) == 12

    with pytest.raises(HfHubHTTPError) as read_only:
        david_hub.push(job, repo, token=READ, base_delay=0.01)
    assert read_only.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as other_user:
        david_hub.push(job, repo, token=OTHER, base_delay=0.01)
    assert other_user.value.response.status_code == 403


def test_corpus_on_the_hub_loads_with_load_dataset(hub):
    from datasets import Dataset, load_dataset

    rows = [json.loads(line) for line in WIKITEXT.read_text().splitlines()[:20]]
    corpus = Dataset.from_list(rows)
    corpus.push_to_hub("alice/wiki-corpus", token=WRITE)
    pulled = load_dataset("alice/wiki-corpus", split="train")
    assert pulled.features == corpus.features and _rows(pulled) == rows


def test_cli_push_and_pull(hub, job, tmp_path, capsys):
    from datasets import load_from_disk

    assert cli(["push", str(job), "cli-ds", "--token", WRITE]) == 0  # bare name: the token owner's namespace
    assert f"{hub.url}/datasets/alice/cli-ds (commit " in capsys.readouterr().out
    assert cli(["pull", "alice/cli-ds", str(tmp_path / "pulled")]) == 0
    pulled, local = load_from_disk(str(tmp_path / "pulled")), load_from_disk(str(job))
    assert _rows(pulled["train"]) == _rows(local["train"]) and _rows(pulled["rejects"]) == _rows(local["rejects"])


def test_push_rejects_unknown_folders(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="neither a generated dataset"):
        david_hub.detect_kind(tmp_path)
    with pytest.raises(FileNotFoundError):
        david_hub.detect_kind(tmp_path / "missing")


def test_seed_loaders_accept_hub_ids(hub, job):
    from datasets import Dataset

    from dataset_scripts.seed import load_columns, load_dolly

    rows = [json.loads(line) for line in DOLLY.read_text().splitlines()[:30]]
    Dataset.from_list(rows).push_to_hub("alice/dolly-mini", token=WRITE)
    dolly = load_dolly("alice/dolly-mini")
    assert dolly["instruction"] == [r["instruction"] for r in rows]
    assert dolly["output"] == [r["response"] for r in rows] and dolly["dolly_row"] == [r["dolly_row"] for r in rows]

    hub_push(job, "alice/for-training")  # a published hf_david dataset is training data for anyone
    train = load_columns("alice/for-training", instruction="instruction", output="output", input="input")
    assert len(train) == 12 and train["source"][0] == "alice/for-training"


def test_job_without_rejects(hub, job):
    from datasets import DatasetDict, load_from_disk

    data = load_from_disk(str(job))
    empty = data["rejects"].select([])
    # as `hf-david generate` saves an empty split (datasets cannot reload one saved without a shard)
    DatasetDict(train=data["train"], rejects=empty).save_to_disk(str(job) + "-clean", num_shards={"rejects": 1})
    clean = Path(str(job) + "-clean")
    (clean / JOB_MANIFEST).write_text((job / JOB_MANIFEST).read_text())
    hub_push(clean, "alice/no-rejects")
    files = HfApi().list_repo_files("alice/no-rejects", repo_type="dataset")
    assert not [f for f in files if f.startswith("rejects/")]  # an empty Parquet file would break load_dataset
    pulled = david_hub.pull_dataset("alice/no-rejects")
    assert list(pulled) == ["train"] and _rows(pulled["train"]) == _rows(data["train"])
    assert '"rejects"' not in DatasetCard.load("alice/no-rejects").text


def test_push_leaves_the_folder_untouched(hub, job, tiny_model, tmp_path):
    """A push only reads the folder: card and images are rendered elsewhere, README.md is never rewritten."""
    cards.write_dataset_card(job)  # as `hf-david generate` leaves it: a card for an unknown repo id
    model_dir = _training_dir(tiny_model, tmp_path)
    (model_dir / "README.md").write_text("---\nlicense: mit\n---\n# my notes\n")
    for folder, repo in ((job, "alice/untouched-data"), (model_dir, "alice/untouched-model")):
        before = snapshot(folder)
        result = hub_push(folder, repo)
        assert snapshot(folder) == before, folder.name
        card = hf_hub_download(repo, "README.md", repo_type=result.kind)
        assert f'"{repo}"' in Path(card).read_text()  # the published card names the repo; the local one does not
    assert "# my notes" not in Path(hf_hub_download("alice/untouched-model", "README.md")).read_text()
    assert len(HfApi().list_repo_commits("alice/untouched-model")) == 2  # create + ONE commit for the push
