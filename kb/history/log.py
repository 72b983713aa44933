"""What each commit changed in the records, as ``kb diff`` says it, dated; cached per commit.

``read_history(root, cache)`` lists the commits on HEAD's first-parent line that changed the
record folders (``kb.history.repository``). A commit's changes are worked out once: the files
it changed are read from git, and the records they held before and after are compared with
``kb.history.diff.compare`` (``kb.history.documents``), together with every recommendation whose
evidence they touch, so that headline levels that moved are found as ``kb diff`` finds them.
The result is written to ``cache/commits/SHA.json`` and read from there by every later build;
the records as they stood at the last commit worked out are kept in ``cache/state.json``, so
that the next build starts from there. A build therefore reads from git only the commits that
are new since the last, and the history step costs about as much with ten thousand commits
behind it as with ten (each cached commit is one small file read).

A cached commit never changes (its ID names its content and its first-parent history);
``FORMAT`` is part of each cache file, and a file written by another format is worked out
again.
"""

import json
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import RevisionNotFound
from kb.history.diff import compare
from kb.history.documents import Record, document_of, links_of, read_blob
from kb.history.repository import (
    Commit,
    FileChange,
    Repository,
    changed_files,
    open_repository,
    read_blobs,
    record_commits,
    tree_files,
    uncommitted_changes,
)

# Bump when what a cache file holds, or how it is worked out, changes.
FORMAT = 3  # 3: text quoted in curly quotes (kb.history.diff.quoted), one ellipsis at a cut


@dataclass(frozen=True)
class CommitChanges:
    """One commit's changes to the records."""

    sha: str
    date: str  # YYYY-MM-DD, the day it was committed
    diff: dict[str, Any]  # ``kb.history.diff.Diff.as_dict()`` from the commit before to this one
    links: dict[str, list[str]]  # each changed evidence link's ID → [its recommendation, study]
    levels: dict[str, list[Any]]  # each recommendation whose evidence it touched → [level, why]

    @property
    def empty(self) -> bool:
        return not any(self.diff["records"].values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "commit": self.sha,
            "date": self.date,
            "diff": self.diff,
            "links": self.links,
            "levels": self.levels,
        }


@dataclass
class History:
    """The records' history, oldest commit first; or why there is none."""

    commits: list[CommitChanges] = field(default_factory=list)
    unavailable: str | None = None  # why the history cannot be read, in words for a reader
    uncommitted: bool = False  # the working tree's records differ from the last commit
    worked_out: int = 0  # commits read from git in this build (the rest from the cache)
    seconds: float = 0.0

    @property
    def last(self) -> CommitChanges | None:
        return self.commits[-1] if self.commits else None


# --- The records at one commit ------------------------------------------------------------


class Records:
    """The record files at one commit, with every recommendation's evidence links indexed."""

    def __init__(self, files: dict[str, tuple[str, Record | None]] | None = None) -> None:
        self.files: dict[str, tuple[str, Record | None]] = {}  # path → (blob, record)
        self.recommendation_paths: dict[str, str] = {}  # recommendation ID → its file
        self.linking: dict[str, set[str]] = defaultdict(set)  # recommendation ID → study files
        for path, (blob, record) in (files or {}).items():
            self.put(path, blob, record)

    def get(self, path: str) -> Record | None:
        entry = self.files.get(path)
        return entry[1] if entry else None

    def put(self, path: str, blob: str | None, record: Record | None) -> None:
        """Set the file at ``path`` (None: deleted), keeping the indexes current."""
        self._unindex(path)
        if blob is None:
            self.files.pop(path, None)
            return
        self.files[path] = (blob, record)
        if record is None:
            return
        kind, data = record
        if kind == "recommendation":
            self.recommendation_paths[data["id"]] = path
        elif kind == "study":
            for link in links_of(data):
                self.linking[str(link.get("recommendation"))].add(path)

    def _unindex(self, path: str) -> None:
        record = self.get(path)
        if record is None:
            return
        kind, data = record
        if kind == "recommendation" and self.recommendation_paths.get(data["id"]) == path:
            del self.recommendation_paths[data["id"]]
        elif kind == "study":
            for link in links_of(data):
                self.linking[str(link.get("recommendation"))].discard(path)

    def document(self, paths: Iterable[str], recommendations: set[str]) -> dict[str, Any]:
        """The export document of the records at ``paths`` and of ``recommendations``, with
        every evidence link bearing on those recommendations (so their headlines are whole)."""
        chosen = set(paths) | {
            self.recommendation_paths[rec]
            for rec in recommendations
            if rec in self.recommendation_paths
        }
        records = [record for path in sorted(chosen) if (record := self.get(path)) is not None]
        studies = {study for rec in recommendations for study in self.linking.get(rec, ())}
        links = [
            link
            for path in sorted(studies)
            if (record := self.get(path)) is not None
            for link in links_of(record[1])
            if link.get("recommendation") in recommendations
        ]
        return document_of(records, links)

    def as_dict(self) -> dict[str, Any]:
        return {path: [blob, record] for path, (blob, record) in self.files.items()}

    @classmethod
    def from_dict(cls, files: dict[str, Any]) -> "Records":
        return cls(
            {
                path: (blob, (record[0], record[1]) if record else None)
                for path, (blob, record) in files.items()
            }
        )


def _recommendations_touched(records: Iterable[Record | None]) -> set[str]:
    """The recommendations whose headline the given records can move: themselves, and those
    their evidence links bear on."""
    touched: set[str] = set()
    for record in records:
        if record is None:
            continue
        kind, data = record
        if kind == "recommendation":
            touched.add(data["id"])
        elif kind == "study":
            touched.update(str(link.get("recommendation")) for link in links_of(data))
    return touched


def commit_changes(
    commit: Commit, records: Records, files: list[FileChange], blobs: dict[str, bytes]
) -> CommitChanges:
    """What ``commit`` changed, given the records before it; ``records`` becomes the records
    after it."""
    paths = [change.path for change in files]
    after = {
        change.path: None if change.blob is None else read_blob(change.path, blobs[change.blob])
        for change in files
    }
    touched = _recommendations_touched([*(records.get(path) for path in paths), *after.values()])
    old = records.document(paths, touched)
    for change in files:
        records.put(change.path, change.blob, after[change.path])
    new = records.document(paths, touched)
    diff = compare(old, new)
    links = {
        change.id: [str(change.record.get("recommendation")), str(change.record.get("study"))]
        for change in diff.records["evidence"]
    }
    levels = {
        rec["id"]: [rec.get("strength"), rec.get("headline", {}).get("reason", "")]
        for rec in new["recommendations"]
    }
    return CommitChanges(commit.sha, commit.date, diff.as_dict(), links, levels)


# --- Reading and caching ------------------------------------------------------------------


def read_history(root: Path, cache: Path) -> History:
    """The history of the knowledge base at ``root``, worked out only for commits the
    ``cache`` folder does not hold yet; or ``History.unavailable`` saying why there is none."""
    started = time.perf_counter()
    repository, why = open_repository(root)
    if repository is None:
        return History(unavailable=why)
    try:
        history = _read(repository, cache)
        history.uncommitted = uncommitted_changes(repository)
    except RevisionNotFound as error:
        return History(unavailable=f"git could not read the history ({error})")
    history.seconds = time.perf_counter() - started
    return history


def _read(repository: Repository, cache: Path) -> History:
    commits = record_commits(repository)
    cached = {commit.sha: _cached(cache, commit.sha) for commit in commits}
    first_missing = next((i for i, c in enumerate(commits) if cached[c.sha] is None), None)
    if first_missing is None:
        return History([cached[c.sha] for c in commits])  # type: ignore[misc]
    start = commits[first_missing - 1] if first_missing else None
    records = _records_at(repository, cache, start)
    todo = commits[first_missing:]
    pairs = list(zip(todo, [start, *todo[:-1]], strict=True))
    files = changed_files(repository, [(c.sha, b.sha) for c, b in pairs if b is not None])
    if start is None:
        files[todo[0].sha] = tree_files(repository, todo[0].sha)
    blobs = read_blobs(
        repository, (f.blob for c in todo for f in files.get(c.sha, []) if f.blob is not None)
    )
    worked: list[CommitChanges] = []
    for commit in todo:
        changes = commit_changes(commit, records, files.get(commit.sha, []), blobs)
        write_cache_file(cache / "commits" / f"{commit.sha}.json", changes.as_dict())
        worked.append(changes)
    write_cache_file(
        cache / "state.json",
        {"format": FORMAT, "head": todo[-1].sha, "files": records.as_dict()},
    )
    earlier = [cached[c.sha] for c in commits[:first_missing]]
    return History([*earlier, *worked], worked_out=len(worked))  # type: ignore[list-item]


def _records_at(repository: Repository, cache: Path, commit: Commit | None) -> Records:
    """The records at ``commit`` (none before the first): from the cache's state when it was
    kept at that commit, else read from git."""
    if commit is None:
        return Records()
    state = _read_json(cache / "state.json")
    if state is not None and state.get("format") == FORMAT and state.get("head") == commit.sha:
        return Records.from_dict(state["files"])
    files = tree_files(repository, commit.sha)
    blobs = read_blobs(repository, (f.blob for f in files if f.blob is not None))
    records = Records()
    for change in files:
        assert change.blob is not None
        records.put(change.path, change.blob, read_blob(change.path, blobs[change.blob]))
    return records


def _cached(cache: Path, sha: str) -> CommitChanges | None:
    data = _read_json(cache / "commits" / f"{sha}.json")
    if data is None or data.get("format") != FORMAT or data.get("commit") != sha:
        return None
    return CommitChanges(sha, data["date"], data["diff"], data["links"], data["levels"])


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def write_cache_file(path: Path, value: Any) -> None:
    """Write a cache file whole or not at all (a reader never sees half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def commits_newest_first(history: History) -> Iterator[CommitChanges]:
    """The commits that changed a record, newest first."""
    return (commit for commit in reversed(history.commits) if not commit.empty)
