"""A tiny Hugging Face hub on 127.0.0.1 answering what snapshot_download / hf_hub_download ask for.

Endpoints (huggingface_hub 2.x): GET /api/models/{repo}/revision/{rev} (repo info: sha + siblings),
GET /api/models/{repo}/tree/{rev} (file listing), HEAD/GET /{repo}/resolve/{rev}/{file} (metadata, bytes).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


@dataclass
class FakeRepo:
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit sha -> files
    refs: dict[str, str] = field(default_factory=dict)  # branch/tag -> commit sha

    def add_commit(self, folder: Path, refs: tuple[str, ...]) -> str:
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
        sha = hashlib.sha1(b"".join(files.values()) + str(len(self.commits)).encode()).hexdigest()
        self.commits[sha] = files
        for ref in refs:
            self.refs[ref] = sha
        return sha

    def resolve(self, revision: str) -> str | None:
        return revision if revision in self.commits else self.refs.get(revision)


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[tuple[str, str]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:
                hub._answer(self, body=False)

            def do_GET(self) -> None:
                hub._answer(self, body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def repo(self, repo_id: str) -> FakeRepo:
        return self.repos.setdefault(repo_id, FakeRepo())

    @staticmethod
    def _send(handler, status: int, headers: dict[str, str], payload: bytes, body: bool) -> None:
        handler.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(payload))}.items():
            handler.send_header(key, value)
        handler.end_headers()
        if body:
            handler.wfile.write(payload)

    def _error(self, handler, code: str, body: bool) -> None:
        payload = json.dumps({"error": code}).encode()
        self._send(
            handler,
            404,
            {"X-Error-Code": code, "X-Error-Message": code, "Content-Type": "application/json"},
            payload,
            body,
        )

    def _lookup(self, repo_id: str, revision: str) -> tuple[str | None, str]:
        repo = self.repos.get(repo_id)
        if repo is None:
            return None, "RepoNotFound"
        sha = repo.resolve(revision)
        return (sha, "") if sha is not None else (None, "RevisionNotFound")

    def _answer(self, handler, body: bool) -> None:
        path = unquote(urlparse(handler.path).path)
        self.requests.append((handler.command, path))
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] in ("revision", "tree"):
            repo_id, kind, revision = "/".join(parts[2:4]), parts[4], parts[5]
            sha, error = self._lookup(repo_id, revision)
            if sha is None:
                return self._error(handler, error, body)
            repo = self.repos[repo_id]
            files = repo.commits[sha]
            if kind == "revision":
                data = {
                    "id": repo_id,
                    "modelId": repo_id,
                    "sha": sha,
                    "private": False,
                    "siblings": [{"rfilename": name} for name in files],
                }
            else:
                data = [
                    {"type": "file", "path": name, "size": len(blob), "oid": hashlib.sha1(blob).hexdigest()}
                    for name, blob in files.items()
                ]
            return self._send(handler, 200, {"Content-Type": "application/json"}, json.dumps(data).encode(), body)
        if len(parts) >= 5 and parts[2] == "resolve":
            repo_id, revision, filename = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
            sha, error = self._lookup(repo_id, revision)
            if sha is None:
                return self._error(handler, error, body)
            repo = self.repos[repo_id]
            blob = repo.commits[sha].get(filename)
            if blob is None:
                return self._error(handler, "EntryNotFound", body)
            headers = {
                "X-Repo-Commit": sha,
                "ETag": f'"{hashlib.sha256(blob).hexdigest()}"',
                "Content-Type": "application/octet-stream",
            }
            return self._send(handler, 200, headers, blob, body)
        return self._error(handler, "RepoNotFound", body)
