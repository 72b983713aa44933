"""Versions of the knowledge base to compare: git revisions, the working tree, export files.

``read_version(paths, given)`` turns what a user names into a ``Version`` holding its export
document (``kb.store.export``): nothing for the working tree, an existing file for a `kb export`
JSON file, anything else for a git revision. A revision's records are written by `git archive`
into a temporary folder and go through the same pipeline as the working tree's (load →
validate → store → export), so the working tree, the index and the store are never touched; a
revision whose records do not validate with this version of kb raises ``RevisionInvalid``.
Only this module runs git.
"""

import io
import json
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from kb.errors import NotAnExport, Problem, RecordsInvalid, RevisionInvalid, RevisionNotFound
from kb.paths import Paths
from kb.records.load import record_kind
from kb.records.read import RECORD_KINDS
from kb.store.current import build_db, current_store
from kb.store.database import open_store
from kb.store.export import export_document

RECORD_FOLDERS = ("recommendations", "evidence")
# What a document needs to be compared: an export written by any version of `kb export`.
EXPORT_KEYS = ("recommendations", "studies", "evidence")
# Lists it may have besides.
OPTIONAL_EXPORT_KEYS = ("sources", "themes", "examples", "figures")


@dataclass(frozen=True)
class Version:
    """One side of a comparison."""

    given: str | None  # as the user named it; None for the working tree
    kind: str  # "working tree", "revision" or "export"
    description: str  # how reports name it: "HEAD~3 (3f9246b)", "the working tree"
    commit: str | None
    date: str | None  # the commit's date (YYYY-MM-DD), for a revision
    # An export document written by any version of `kb export` (a file, a past commit), so read
    # key by key rather than as this version's ``kb.records.document.Document``.
    document: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "given": self.given,
            "kind": self.kind,
            "description": self.description,
            "commit": self.commit,
            "date": self.date,
        }


def git(root: Path, *args: str, stdin: bytes | None = None, timeout: float = 300) -> bytes:
    """Run git in ``root`` (with ``stdin``); raise ``RevisionNotFound`` with git's own words
    if it fails."""
    try:
        finished = subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, check=False, timeout=timeout
        )
    except FileNotFoundError:
        raise RevisionNotFound("git is not installed; it is needed to read revisions") from None
    if finished.returncode != 0:
        message = finished.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RevisionNotFound(f"git {args[0]} failed: {message[-1] if message else 'no message'}")
    return finished.stdout


def resolve(root: Path, given: str) -> tuple[str, str]:
    """The commit a revision names, and its date; ``RevisionNotFound`` if it names none."""
    try:
        commit = git(
            root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{given}^{{commit}}"
        )
    except RevisionNotFound:
        raise RevisionNotFound(
            f"'{given}' is neither a file nor a git revision of the repository at {root}"
        ) from None
    sha = commit.decode().strip()
    date = git(root, "show", "--no-patch", "--format=%cs", sha).decode().strip()
    return sha, date


def _tree(root: Path, sha: str) -> tuple[Path, str]:
    """The top folder of the repository, and the tree of ``sha`` that holds the knowledge
    base (the knowledge base may be a folder of the repository). git reads trees named so only
    from the top folder: elsewhere, `ls-tree` and `archive` look in the current folder too."""
    top = Path(git(root, "rev-parse", "--show-toplevel").decode().strip())
    prefix = git(root, "rev-parse", "--show-prefix").decode().strip()
    return top, f"{sha}:{prefix}" if prefix else sha


def revision_records(root: Path, given: str, folder: Path) -> tuple[str, str]:
    """Write the record folders of revision ``given`` into ``folder``; return its commit and
    date."""
    sha, date = resolve(root, given)
    top, tree = _tree(root, sha)
    names = set(git(top, "ls-tree", "--name-only", tree).decode().splitlines())
    present = [name for name in RECORD_FOLDERS if name in names]
    if not present:
        raise RevisionNotFound(
            f"{given} ({sha[:7]}) has no recommendations/ or evidence/ folder: "
            "the knowledge base is not there at that revision"
        )
    archive = git(top, "archive", "--format=tar", tree, *present)
    try:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise RevisionNotFound(
            f"the records at {given} ({sha[:7]}) cannot be read: {error}"
        ) from None
    return sha, date


def _cause_first(problem: Problem) -> tuple[int, Problem]:
    """Problems in the order the kinds of record refer to each other (sources, themes,
    recommendations, studies, examples, figures), so that a study refused for its format comes
    before the practice examples that cannot find it."""
    kind = record_kind(PurePosixPath(problem.path))
    order = RECORD_KINDS.index(kind) if kind in RECORD_KINDS else 0
    return order, problem


def _described(given: str, sha: str) -> str:
    return sha[:7] if sha.startswith(given) else f"{given} ({sha[:7]})"


def revision(paths: Paths, given: str) -> Version:
    """The knowledge base at git revision ``given`` of the repository holding ``paths.root``."""
    with tempfile.TemporaryDirectory(prefix="kb-revision-") as temporary:
        folder = Path(temporary) / "kb"
        folder.mkdir()
        sha, date = revision_records(paths.root, given, folder)
        described = _described(given, sha)
        at = Paths.for_root(
            folder,
            database=str(Path(temporary) / "kb.sqlite"),
            index=str(Path(temporary) / "index"),
        )
        try:
            build_db(at)
        except RecordsInvalid as error:
            raise RevisionInvalid(described, sorted(error.problems, key=_cause_first)) from None
        engine = open_store(at.database)
        try:
            document = export_document(engine)
        finally:
            engine.dispose()
    return Version(given, "revision", described, sha, date, document)


def working_tree(paths: Paths) -> Version:
    """The knowledge base as it is on disk now (through the store, rebuilt if out of date)."""
    engine = current_store(paths)
    try:
        document = export_document(engine)
    finally:
        engine.dispose()
    return Version(None, "working tree", "the working tree", None, None, document)


def export_file(path: Path) -> Version:
    """The knowledge base as a `kb export` file holds it."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise NotAnExport(f"{path} cannot be read as JSON: {error}") from None
    if not isinstance(document, dict):
        raise NotAnExport(f"{path} is not a `kb export` document: it is not a JSON object")
    for key in (*EXPORT_KEYS, *OPTIONAL_EXPORT_KEYS):
        records = document.get(key, None if key in EXPORT_KEYS else [])
        if not isinstance(records, list) or not all(
            isinstance(record, dict) and isinstance(record.get("id"), str) for record in records
        ):
            raise NotAnExport(
                f"{path} is not a `kb export` document: '{key}' is not a list of records with IDs"
            )
    return Version(str(path), "export", f"export {path}", None, None, document)


def read_version(paths: Paths, given: str | None) -> Version:
    """The version a user names: none for the working tree, an existing file for an export,
    anything else for a git revision."""
    if given is None:
        return working_tree(paths)
    if Path(given).is_file():
        return export_file(Path(given))
    return revision(paths, given)
