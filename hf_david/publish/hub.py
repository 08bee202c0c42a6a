"""Publish generated datasets and trained models to the Hugging Face Hub, and pull them back.

`push(folder, repo_id)` auto-detects the folder: a generated job (`hf_david_job.json` + a saved
DatasetDict) or a model (`config.json`). A push is ONE commit holding the data, the card and its images,
made against the repo's current head (`parent_commit`): re-pushing the same folder changes nothing, a new
version replaces the old data files, and metadata the user added to the card on the Hub is kept.

Datasets: `DatasetDict.push_to_hub` needs one schema for all splits and makes its own commit, but the
`rejects` split has other columns and the card must land in the same commit. So the splits are written as
Parquet shards with the layout `push_to_hub` uses (`data/train-00000-of-00001.parquet`) plus a `rejects`
config, with `configs` and `dataset_info` in the card's YAML: `load_dataset(repo_id)` gives `train`,
`load_dataset(repo_id, "rejects")` the rejected rows. Models: the folder's files (less local bookkeeping)
plus the merged card. A push never writes into the user's folder: the card and its images are rendered
into a temporary folder. Transient HTTP errors (429, 5xx, connection resets) are retried with backoff.
"""

from __future__ import annotations

import logging
import math
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import httpx2
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    DatasetCard,
    HfApi,
    ModelCard,
    RepoCard,
    constants,
)
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError
from huggingface_hub.utils import DEFAULT_IGNORE_PATTERNS, filter_repo_objects

from hf_david.artifacts import JOB_MANIFEST, SPLIT_FEATURES, TRAINING_MANIFEST
from hf_david.publish import cards
from hf_david.publish.sanitize import sanitize

logger = logging.getLogger(__name__)

T = TypeVar("T")
# Retried: timeouts, rate limits and server errors, plus 409/412 (another commit landed first: the next
# attempt re-reads the head and re-merges the card).
TRANSIENT_STATUS = (408, 409, 412, 429, 500, 502, 503, 504)
MAX_SHARD_BYTES = 500 * 1024 * 1024
README = cards.README
REJECTS = "rejects"  # the split of rejected rows, published as its own config (its columns differ)
# The splits of a generated dataset, their columns (as the card lists them) and their folders on the Hub.
SPLIT_COLUMNS = {split: tuple(features) for split, features in SPLIT_FEATURES.items()}
DATA_DIRS = {"train": "data", REJECTS: "rejects"}
# Files of a model folder that are not published: local bookkeeping that records local paths
# (the training manifest, Trainer's pickled arguments and state) and training checkpoints.
MODEL_IGNORE = [
    TRAINING_MANIFEST,
    "training_args.bin",
    "trainer_state.json",
    "checkpoint-*/**",
    "runs/**",
    ".cache/**",
    "*.lock",
]
# On re-push hf_david rewrites the metadata keys it owns and keeps every other key found on the Hub; for
# these list keys, the items only the Hub has (a user's extra tags) are kept too.
LIST_KEYS_TO_UNION = ("tags", "task_categories", "language")


def with_retry(fn: Callable[[], T], *, attempts: int = 5, base_delay: float = 1.0, what: str = "request") -> T:
    """Call `fn`, retrying transient Hub errors with exponential backoff and jitter."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except (HfHubHTTPError, httpx2.TransportError) as err:
            status = getattr(getattr(err, "response", None), "status_code", None)
            transient = isinstance(err, httpx2.TransportError) or status in TRANSIENT_STATUS
            if not transient or attempt == attempts:
                raise
            delay = base_delay * 2 ** (attempt - 1) * (1 + random.random() / 2)
            logger.warning("%s failed (%s); retry %d/%d in %.1fs", what, status or err, attempt, attempts - 1, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _secrets(api: HfApi) -> tuple[str, ...]:
    return (api.token,) if isinstance(api.token, str) else ()


def detect_kind(folder: Path) -> str:
    """'dataset' for a generated job folder, 'model' for a model folder; a clear error otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a directory")
    if (folder / JOB_MANIFEST).is_file() and (folder / "dataset_dict.json").is_file():
        return "dataset"
    if (folder / "config.json").is_file():
        return "model"
    raise ValueError(
        f"{folder.name!r} is neither a generated dataset (hf_david_job.json + dataset_dict.json from "
        "`hf-david generate`) nor a model folder (config.json)"
    )


def _remote_card(api: HfApi, repo_id: str, repo_type: str, revision: str, card_cls: type[RepoCard]):
    try:
        path = api.hf_hub_download(repo_id, "README.md", repo_type=repo_type, revision=revision)
    except EntryNotFoundError:
        return None
    return card_cls.load(path, repo_type=repo_type, ignore_metadata_errors=True)


def merge_card(local: RepoCard, remote: RepoCard | None) -> RepoCard:
    """The local card, with every metadata key only the Hub has kept, and user-added list items kept."""
    if remote is None:
        return local
    ours = local.data.to_dict()
    for key, value in remote.data.to_dict().items():
        if key not in ours:
            local.data[key] = value
        elif key in LIST_KEYS_TO_UNION and isinstance(value, list) and isinstance(ours[key], list):
            local.data[key] = list(dict.fromkeys([*ours[key], *value]))
    return local


def _write_shards(ds, split: str, out_dir: Path) -> list[tuple[str, Path]]:
    """Parquet shards of one split named like `push_to_hub` names them; returns (path_in_repo, file)."""
    num_shards = max(1, math.ceil(ds.data.nbytes / MAX_SHARD_BYTES))
    data_dir = DATA_DIRS.get(split, split)
    shards = []
    for index in range(num_shards):
        name = f"{data_dir}/{split}-{index:05d}-of-{num_shards:05d}.parquet"
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.shard(num_shards, index, contiguous=True).to_parquet(str(path))
        shards.append((name, path))
    return shards


def _add_dataset_metadata(card: DatasetCard, data, shard_sizes: dict[str, int]) -> None:
    """`configs` (which files make which config/split) and `dataset_info` (features, sizes) in the YAML."""
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs

    configs, infos = {}, {}
    for split, ds in data.items():
        config_name = "default" if split == "train" else split
        configs[config_name] = {"data_files": [{"split": split, "path": f"{DATA_DIRS.get(split, split)}/{split}-*"}]}
        splits = SplitDict()
        splits.add(SplitInfo(name=split, num_bytes=ds.data.nbytes, num_examples=len(ds)))
        infos[config_name] = DatasetInfo(
            config_name=config_name,
            features=ds.features,
            splits=splits,
            download_size=shard_sizes[split],
            dataset_size=ds.data.nbytes,
        )
    card.data.pop("configs", None)
    card.data.pop("dataset_info", None)
    MetadataConfigs(configs).to_dataset_card_data(card.data)
    DatasetInfosDict(infos).to_dataset_card_data(card.data)


def _check_columns(data: dict) -> None:
    """Warn when a split's columns are not the documented ones (e.g. a folder from an older hf_david):
    the data is published as it is, but its card describes `SPLIT_COLUMNS`."""
    for split, ds in data.items():
        expected = SPLIT_COLUMNS.get(split)
        if expected is not None and tuple(ds.column_names) != expected:
            logger.warning("split %r has columns %s; the card documents %s", split, ds.column_names, list(expected))


def _merged_card(api: HfApi, text: str, repo_id: str, repo_type: str, head: str, card_cls: type[RepoCard]):
    """The local card `text` merged with the card on the Hub at `head` (see `merge_card`)."""
    return merge_card(card_cls(text), _remote_card(api, repo_id, repo_type, head, card_cls))


def _card_addition(api: HfApi, card: RepoCard) -> CommitOperationAdd:
    """README.md for the commit, from memory, sanitized (the push token included)."""
    return CommitOperationAdd(README, sanitize(str(card), _secrets(api)).encode("utf-8"))


def _commit_dataset(api: HfApi, job_dir: Path, card_dir: Path, repo_id: str, message: str) -> str:
    """One attempt: read the head, build data + merged card + images, commit against that head.

    Reads the saved DatasetDict of `job_dir` and the card and images rendered into `card_dir`."""
    head = api.repo_info(repo_id, repo_type="dataset").sha
    _, data = cards.dataset_card_data(job_dir)
    # An empty split is left out: `load_dataset` cannot read a Parquet file without rows.
    data = {split: data[split] for split in DATA_DIRS if split in data and len(data[split])}
    if "train" not in data:
        raise ValueError(f"{job_dir.name!r} has no train rows: nothing to publish")
    _check_columns(data)
    card = _merged_card(api, (card_dir / README).read_text(encoding="utf-8"), repo_id, "dataset", head, DatasetCard)
    with tempfile.TemporaryDirectory(prefix="hf_david_push.") as tmp:
        shards = {split: _write_shards(ds, split, Path(tmp)) for split, ds in data.items()}
        _add_dataset_metadata(card, data, {s: sum(p.stat().st_size for _, p in v) for s, v in shards.items()})
        additions = [CommitOperationAdd(name, str(path)) for files in shards.values() for name, path in files]
        additions.append(_card_addition(api, card))
        images = [name for name in cards.DATASET_IMAGES if (card_dir / name).is_file()]
        additions += [CommitOperationAdd(name, str(card_dir / name)) for name in images]
        new_paths = {op.path_in_repo for op in additions}
        remote = api.list_repo_files(repo_id, repo_type="dataset", revision=head)
        stale = [
            path
            for path in remote
            if path not in new_paths and (path.split("/")[0] in DATA_DIRS.values() or path in cards.DATASET_IMAGES)
        ]
        operations = additions + [CommitOperationDelete(path) for path in stale]
        info = api.create_commit(repo_id, operations, commit_message=message, repo_type="dataset", parent_commit=head)
    return info.oid


def _model_files(model_dir: Path) -> list[str]:
    """Paths (relative, POSIX) of the model folder's files to publish: MODEL_IGNORE and .git left out."""
    files = sorted(p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file())
    return list(filter_repo_objects(files, ignore_patterns=[*MODEL_IGNORE, *DEFAULT_IGNORE_PATTERNS]))


def _commit_model(api: HfApi, model_dir: Path, card_text: str | None, repo_id: str, message: str) -> str:
    """One attempt: the folder's files, with README.md replaced by `card_text` merged with the Hub's card."""
    head = api.repo_info(repo_id, repo_type="model").sha
    files = _model_files(model_dir)
    operations = [CommitOperationAdd(path, str(model_dir / path)) for path in files if path != README]
    if card_text is not None:
        operations.append(_card_addition(api, _merged_card(api, card_text, repo_id, "model", head, ModelCard)))
    info = api.create_commit(repo_id, operations, commit_message=message, repo_type="model", parent_commit=head)
    return info.oid


@dataclass(frozen=True)
class PushResult:
    kind: str  # "dataset" or "model"
    repo_id: str
    commit: str

    @property
    def url(self) -> str:
        prefix = "datasets/" if self.kind == "dataset" else ""
        return f"{constants.ENDPOINT}/{prefix}{self.repo_id}"


def _model_card_text(model_dir: Path, repo_id: str, card_dir: Path) -> str | None:
    """The card to publish with a model: rendered into `card_dir` from the training manifest when there
    is one, else the folder's own README.md, else None (no card)."""
    if (model_dir / TRAINING_MANIFEST).is_file():
        return cards.write_model_card(model_dir, repo_id=repo_id, dest=card_dir).read_text(encoding="utf-8")
    readme = model_dir / README
    return readme.read_text(encoding="utf-8") if readme.is_file() else None


def push(
    folder: Path, repo_id: str, *, private: bool = False, token: str | None = None, base_delay: float = 1.0
) -> PushResult:
    """Publish a job or model folder, auto-detected, in one commit. A bare `name` goes to the token owner's
    namespace. The folder is only read: its card and images are rendered into a temporary folder."""
    folder = Path(folder)
    kind = detect_kind(folder)
    api = HfApi(token=token)
    if "/" not in repo_id:
        repo_id = f"{with_retry(api.whoami, base_delay=base_delay)['name']}/{repo_id}"
    message = f"Upload hf_david {kind}"
    with tempfile.TemporaryDirectory(prefix="hf_david_card.") as tmp:
        card_dir = Path(tmp)
        if kind == "dataset":
            cards.write_dataset_card(folder, repo_id=repo_id, dest=card_dir)
            attempt = partial(_commit_dataset, api, folder, card_dir, repo_id, message)
        else:
            attempt = partial(_commit_model, api, folder, _model_card_text(folder, repo_id, card_dir), repo_id, message)
        with_retry(
            lambda: api.create_repo(repo_id, repo_type=kind, private=private, exist_ok=True),
            base_delay=base_delay,
            what="create_repo",
        )
        oid = with_retry(attempt, base_delay=base_delay, what=f"push of {repo_id}")
    return PushResult(kind, repo_id, oid)


def pull_dataset(repo_id: str, *, revision: str | None = None, token: str | None = None):
    """A published hf_david dataset as a DatasetDict: `train`, plus `rejects` when the repo has them."""
    from datasets import DatasetDict, get_dataset_config_names, load_dataset

    data = DatasetDict(train=load_dataset(repo_id, split="train", revision=revision, token=token))
    if REJECTS in get_dataset_config_names(repo_id, revision=revision, token=token):
        data[REJECTS] = load_dataset(repo_id, REJECTS, split=REJECTS, revision=revision, token=token)
    return data
