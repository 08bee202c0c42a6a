"""A small in-memory Hugging Face Hub for tests: the HTTP protocol the unmodified clients speak, on loopback.

No open-source Hub server installs here (hf-local-hub needs Go), so this implements, with the standard
library only, the endpoints `huggingface_hub` 2.x, `datasets` 5 and `transformers` 5 call to create repos,
commit (NDJSON, with git-LFS batch upload for binary files and `*.parquet` as on the real Hub), list trees,
resolve downloads with the real headers, and authenticate: tokens map to a user and a role ("read" or
"write"); a private repo answers 401 without a token and 404 to another user; a read token cannot write.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

# The real Hub's default .gitattributes patterns (subset) decide which files must go through LFS.
LFS_PATTERNS = (
    "*.parquet",
    "*.arrow",
    "*.safetensors",
    "*.bin",
    "*.pt",
    "*.pth",
    "*.gguf",
    "*.npy",
    "*.zip",
    "*.png",
    "*.jpg",
)
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024
PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Blob:
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def pointer(self) -> bytes:
        spec = "version https://git-lfs.github.com/spec/v1"
        return f"{spec}\noid sha256:{self.sha256}\nsize {len(self.data)}\n".encode()

    @property
    def oid(self) -> str:
        """Git object id: of the content for regular files, of the pointer file for LFS files."""
        return git_blob_sha1(self.pointer if self.lfs else self.data)

    def entry(self, path: str) -> dict:
        info = {"type": "file", "oid": self.oid, "size": len(self.data), "path": path}
        if self.lfs:
            info["lfs"] = {"oid": self.sha256, "size": len(self.data), "pointerSize": len(self.pointer)}
        return info


@dataclass
class Commit:
    oid: str
    title: str
    message: str
    author: str
    date: str
    files: dict[str, Blob]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    commits: list[Commit] = field(default_factory=list)
    lfs_objects: dict[str, bytes] = field(default_factory=dict)

    @property
    def owner(self) -> str:
        return self.repo_id.split("/")[0]

    def commit(self, revision: str) -> Commit | None:
        if revision in ("main", "refs/heads/main"):
            return self.commits[-1]
        return next(
            (c for c in self.commits if c.oid == revision or (len(revision) >= 7 and c.oid.startswith(revision))),
            None,
        )


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


class HubState:
    """Repos, tokens and a request log, shared by the handler threads under one lock."""

    def __init__(self, tokens: dict[str, tuple[str, str]]):
        self.tokens = tokens  # token -> (user, "read" | "write")
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str]] = []
        # (method, path regex, status): answer the next matching request with that status (transient errors).
        self.fail_next: list[tuple[str, str, int]] = []

    def new_repo(self, repo_type: str, repo_id: str, private: bool, author: str) -> Repo:
        repo = Repo(repo_type, repo_id, private)
        attributes = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in LFS_PATTERNS).encode()
        self.add_commit(repo, "initial commit", "", author, {".gitattributes": Blob(attributes, lfs=False)})
        self.repos[(repo_type, repo_id)] = repo
        return repo

    @staticmethod
    def add_commit(repo: Repo, title: str, message: str, author: str, files: dict[str, Blob]) -> Commit:
        parent = repo.commits[-1].oid if repo.commits else ""
        digest = hashlib.sha1(json.dumps([parent, title, sorted((p, b.oid) for p, b in files.items())]).encode())
        commit = Commit(digest.hexdigest(), title, message, author, _now(), files)
        repo.commits.append(commit)
        return commit


class HubHandler(BaseHTTPRequestHandler):
    server: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - silence the default stderr log
        pass

    # ---- plumbing ------------------------------------------------------------------------------------------
    @property
    def state(self) -> HubState:
        return self.server.state

    def _body(self) -> bytes:
        return self._raw

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def _user(self) -> tuple[str, str] | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        token = auth.removeprefix("Bearer ").strip()
        if token not in self.state.tokens:
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.state.tokens[token]

    def _repo(self, repo_type: str, repo_id: str, write: bool = False) -> Repo:
        user = self._user()
        repo = self.state.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and user is not None and user[0] != repo.owner):
            raise HubError(404, "Repository not found", "RepoNotFound")
        if repo.private and user is None:
            raise HubError(401, "Repository not found", "RepoNotFound")
        if write:
            if user is None:
                raise HubError(401, "You must be authenticated to write")
            if user[0] != repo.owner or user[1] != "write":
                raise HubError(403, f"You don't have the rights to write to {repo_id} with this token")
        return repo

    @staticmethod
    def _commit(repo: Repo, revision: str) -> Commit:
        commit = repo.commit(unquote(revision))
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    # ---- dispatch ------------------------------------------------------------------------------------------
    _API = r"/api/(?P<t>model|dataset|space)s/(?P<id>[^/]+/[^/]+)"
    _REPO = r"/(?P<prefix>datasets/|spaces/)?(?P<id>[^/]+/[^/]+)"
    ROUTES = [
        ("GET", r"/api/whoami-v2", "whoami"),
        ("POST", r"/api/validate-yaml", "validate_yaml"),
        ("POST", r"/api/repos/create", "create_repo"),
        ("GET", _API + r"(?:/revision/(?P<rev>.+))?", "info"),
        ("GET", _API + r"/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?", "tree"),
        ("POST", _API + r"/paths-info/(?P<rev>.+)", "paths_info"),
        ("GET", _API + r"/commits/(?P<rev>.+)", "commits"),
        ("POST", _API + r"/preupload/(?P<rev>.+)", "preupload"),
        ("POST", _API + r"/commit/(?P<rev>.+)", "commit"),
        ("POST", _REPO + r"\.git/info/lfs/objects/batch", "lfs_batch"),
        ("PUT", r"/lfs-upload/(?P<t>model|dataset|space)/(?P<id>[^/]+/[^/]+)/(?P<oid>[0-9a-f]{64})", "lfs_put"),
        ("GET", _REPO + r"/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "resolve"),
    ]

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        self._raw = self._read_body()
        method = "GET" if self.command == "HEAD" else self.command
        with self.state.lock:
            self.state.requests.append((self.command, self.path))
            fail = next(
                (f for f in self.state.fail_next if f[0] == self.command and re.fullmatch(f[1], url.path)),
                None,
            )
            if fail is not None:
                self.state.fail_next.remove(fail)
        if fail is not None:
            return self._json({"error": "transient failure (injected)"}, fail[2])
        for route_method, pattern, name in self.ROUTES:
            match = re.fullmatch(pattern, url.path)
            if route_method == method and match:
                try:
                    with self.state.lock:
                        return getattr(self, "do_" + name)(**match.groupdict())
                except HubError as err:
                    headers = {"X-Error-Message": err.message}
                    if err.code:
                        headers["X-Error-Code"] = err.code
                    return self._json({"error": err.message}, err.status, headers)
        self._json({"error": f"no route for {self.command} {url.path}"}, 404)

    do_GET = do_HEAD = do_POST = do_PUT = _dispatch

    # ---- endpoints -----------------------------------------------------------------------------------------
    def do_whoami(self) -> None:
        user = self._user()
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        self._json(
            {
                "type": "user",
                "name": user[0],
                "fullname": user[0],
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": user[1]}},
            }
        )

    def do_validate_yaml(self) -> None:
        import yaml

        content = json.loads(self._body())["content"]
        match = re.match(r"^---\n(.*?)\n---", content, re.S)
        try:
            if match and not isinstance(yaml.safe_load(match.group(1)) or {}, dict):
                raise yaml.YAMLError("metadata must be a mapping")
        except yaml.YAMLError as err:
            return self._send(400, f"Invalid metadata in README.md: {err}".encode(), content_type="text/plain")
        self._json({"errors": [], "warnings": []})

    def do_create_repo(self) -> None:
        payload = json.loads(self._body())
        user = self._user()
        if user is None:
            raise HubError(401, "You must be authenticated to create a repo")
        namespace = payload.get("organization") or user[0]
        if namespace != user[0] or user[1] != "write":
            raise HubError(403, f"You don't have the rights to create a repo under {namespace}")
        repo_type = payload.get("type") or "model"
        repo_id = f"{namespace}/{payload['name']}"
        url = f"{self.server.url}/{PREFIXES[repo_type]}{repo_id}"
        if (repo_type, repo_id) in self.state.repos:
            # The real Hub answers 409 with the repo's url: `create_repo(exist_ok=True)` reads it.
            return self._json({"error": "You already created this repo", "url": url}, 409)
        self.state.new_repo(repo_type, repo_id, payload.get("visibility") == "private", user[0])
        self._json({"url": url, "name": repo_id, "id": repo_id})

    def do_info(self, t: str, id: str, rev: str | None) -> None:  # noqa: A002
        repo = self._repo(t, id)
        commit = self._commit(repo, rev or "main")
        card = {}
        if "README.md" in commit.files:
            import yaml

            match = re.match(r"^---\n(.*?)\n---", commit.files["README.md"].data.decode(), re.S)
            card = (yaml.safe_load(match.group(1)) if match else None) or {}
        self._json(
            {
                "_id": hashlib.md5(id.encode()).hexdigest()[:24],
                "id": id,
                "author": repo.owner,
                "sha": commit.oid,
                "private": repo.private,
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "lastModified": commit.date,
                "createdAt": repo.commits[0].date,
                "tags": card.get("tags", []),
                "cardData": card,
                "siblings": [{"rfilename": p} for p in sorted(commit.files)],
            }
        )

    def _tree_entries(self, commit: Commit, path: str, recursive: bool) -> list[dict]:
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        if prefix and not any(p.startswith(prefix) for p in commit.files):
            raise HubError(404, f"Entry {path} not found", "EntryNotFound")
        entries: dict[str, dict] = {}
        for file_path, blob in sorted(commit.files.items()):
            if not file_path.startswith(prefix):
                continue
            parts = file_path[len(prefix) :].split("/")
            for depth in range(1, len(parts)):
                if depth > 1 and not recursive:
                    break
                folder = prefix + "/".join(parts[:depth])
                entries.setdefault(
                    folder,
                    {"type": "directory", "oid": git_blob_sha1(folder.encode()), "size": 0, "path": folder},
                )
            if recursive or len(parts) == 1:
                entries[file_path] = blob.entry(file_path)
        return list(entries.values())

    def do_tree(self, t: str, id: str, rev: str, path: str | None) -> None:  # noqa: A002
        commit = self._commit(self._repo(t, id), rev)
        recursive = self.query.get("recursive", ["False"])[0].lower() in ("true", "1")
        self._json(self._tree_entries(commit, unquote(path or ""), recursive))

    def do_paths_info(self, t: str, id: str, rev: str) -> None:  # noqa: A002
        commit = self._commit(self._repo(t, id), rev)
        form = parse_qs(self._body().decode())
        result = []
        for path in form.get("paths", []):
            path = path.strip("/")
            if path in commit.files:
                result.append(commit.files[path].entry(path))
            elif any(p.startswith(path + "/") for p in commit.files):
                result.append({"type": "directory", "oid": git_blob_sha1(path.encode()), "size": 0, "path": path})
        self._json(result)

    def do_commits(self, t: str, id: str, rev: str) -> None:  # noqa: A002
        head = self._commit(self._repo(t, id), rev)
        repo = self.state.repos[(t, id)]
        history = repo.commits[: repo.commits.index(head) + 1][::-1]
        self._json(
            [
                {
                    "id": c.oid,
                    "title": c.title,
                    "message": c.message,
                    "date": c.date,
                    "authors": [{"user": c.author}],
                }
                for c in history
            ]
        )

    def do_preupload(self, t: str, id: str, rev: str) -> None:  # noqa: A002
        repo = self._repo(t, id, write=True)
        commit = self._commit(repo, rev)
        files = []
        for item in json.loads(self._body())["files"]:
            sample = base64.b64decode(item["sample"])
            name = item["path"].rsplit("/", 1)[-1]
            lfs = (
                any(fnmatch.fnmatch(name, p) for p in LFS_PATTERNS)
                or item["size"] > LFS_SIZE_THRESHOLD
                or b"\0" in sample
            )
            existing = commit.files.get(item["path"])
            oid = None if existing is None else (existing.sha256 if existing.lfs else existing.oid)
            files.append(
                {
                    "path": item["path"],
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": oid,
                }
            )
        self._json({"files": files, "commitOid": commit.oid})

    def do_lfs_batch(self, prefix: str | None, id: str) -> None:  # noqa: A002
        repo_type = {"datasets/": "dataset", "spaces/": "space"}.get(prefix or "", "model")
        repo = self._repo(repo_type, id, write=True)
        payload = json.loads(self._body())
        objects = []
        for obj in payload["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in repo.lfs_objects:
                href = f"{self.server.url}/lfs-upload/{repo_type}/{id}/{obj['oid']}"
                entry["actions"] = {"upload": {"href": href, "header": {}}}
            objects.append(entry)
        self._json(
            {"transfer": "basic", "objects": objects, "hash_algo": "sha256"},
            headers={"Content-Type": "application/vnd.git-lfs+json"},
        )

    def do_lfs_put(self, t: str, id: str, oid: str) -> None:  # noqa: A002
        repo = self.state.repos.get((t, id))
        data = self._body()
        if repo is None or hashlib.sha256(data).hexdigest() != oid:
            raise HubError(400, "LFS object does not match its oid")
        repo.lfs_objects[oid] = data
        self._send(200, b"", content_type="text/plain")

    def do_commit(self, t: str, id: str, rev: str) -> None:  # noqa: A002
        repo = self._repo(t, id, write=True)
        head = self._commit(repo, "main")
        if unquote(rev) not in ("main", head.oid):
            raise HubError(400, "only the main branch is supported by this test server")
        lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
        header = next(item["value"] for item in lines if item["key"] == "header")
        if header.get("parentCommit") and header["parentCommit"] != head.oid:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(head.files)
        for item in lines:
            key, value = item["key"], item["value"]
            if key == "file":
                data = base64.b64decode(value["content"])
                files[value["path"]] = Blob(data, lfs=False)
            elif key == "lfsFile":
                if value["oid"] not in repo.lfs_objects:
                    raise HubError(400, f"LFS object {value['oid']} for {value['path']} was not uploaded")
                files[value["path"]] = Blob(repo.lfs_objects[value["oid"]], lfs=True)
            elif key == "deletedFile":
                if files.pop(value["path"], None) is None:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
            elif key == "deletedFolder":
                files = {p: b for p, b in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
        commit = self.state.add_commit(repo, header["summary"], header.get("description", ""), self._user()[0], files)
        url = f"{self.server.url}/{PREFIXES[t]}{id}/commit/{commit.oid}"
        self._json({"success": True, "commitOid": commit.oid, "commitUrl": url, "pullRequestUrl": None})

    def do_resolve(self, prefix: str | None, id: str, rev: str, path: str) -> None:  # noqa: A002
        repo_type = {"datasets/": "dataset", "spaces/": "space"}.get(prefix or "", "model")
        commit = self._commit(self._repo(repo_type, id), rev)
        path = unquote(path)
        blob = commit.files.get(path)
        if blob is None:
            raise HubError(404, f"Entry {path} not found", "EntryNotFound")
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{blob.oid}"', "Accept-Ranges": "bytes"}
        if blob.lfs:
            headers.update({"X-Linked-Etag": f'"{blob.sha256}"', "X-Linked-Size": str(len(blob.data))})
        data = blob.data
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if match and data:
            start = int(match.group(1) or 0)
            end = min(int(match.group(2)) if match.group(2) else len(data) - 1, len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return self._send(206, data[start : end + 1], headers, "application/octet-stream")
        self._send(200, data, headers, "application/octet-stream")


class HubServer(ThreadingHTTPServer):
    """`HubServer(tokens).start()` serves on 127.0.0.1 at a free port (or `port`); `.url` is the endpoint."""

    daemon_threads = True

    def __init__(self, tokens: dict[str, tuple[str, str]], port: int = 0):
        super().__init__(("127.0.0.1", port), HubHandler)
        self.state = HubState(tokens)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread: threading.Thread | None = None

    def start(self) -> HubServer:
        self._thread = threading.Thread(target=self.serve_forever, name="hub-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
