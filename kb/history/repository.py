"""The git repository a knowledge base lives in, as the history needs it: whether its history
can be read, the commits that changed the records (on the first-parent line, as they landed),
the files each changed, and the blobs they hold.

Every command is one git process however many commits it covers (``git log``, ``git
diff-tree --stdin``, ``git cat-file --batch``), through ``kb.history.revisions.git``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kb.errors import RevisionNotFound
from kb.history.revisions import RECORD_FOLDERS, git


@dataclass(frozen=True)
class Repository:
    """Where the knowledge base sits in its repository."""

    top: Path  # the repository's top folder
    prefix: str  # the knowledge base's folder from the top, "" or ending in "/"

    def pathspecs(self) -> list[str]:
        """The record folders, from the top."""
        return [f"{self.prefix}{folder}" for folder in RECORD_FOLDERS]


@dataclass(frozen=True)
class Commit:
    """A commit that changed the records, and the day it was made (committed)."""

    sha: str
    date: str  # YYYY-MM-DD


@dataclass(frozen=True)
class FileChange:
    """A record folder's file added, changed or deleted by a commit, from the knowledge base's
    root; ``blob`` is what it holds after (None when deleted)."""

    path: str
    blob: str | None


def open_repository(root: Path) -> tuple[Repository | None, str | None]:
    """The repository ``root`` is in, or None and why its history cannot be read: git is not
    installed, ``root`` is not in a repository, it has no commit, or it is a shallow clone
    (whose history is cut off, so that every record would seem added on its first day)."""
    try:
        top = Path(git(root, "rev-parse", "--show-toplevel").decode().strip())
        prefix = git(root, "rev-parse", "--show-prefix").decode().strip()
    except RevisionNotFound as error:
        if "not installed" in str(error):
            return None, "git is not installed where the site was built"
        return None, "the knowledge base was not built from a git repository"
    try:
        git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except RevisionNotFound:
        return None, "the repository has no commit yet"
    shallow = git(root, "rev-parse", "--is-shallow-repository").decode().strip()
    if shallow == "true":
        return None, (
            "the site was built from a shallow clone, which lacks the repository's history "
            "(fetch it with `git fetch --unshallow`)"
        )
    return Repository(top, prefix), None


def record_commits(repository: Repository) -> list[Commit]:
    """Every commit on HEAD's first-parent line that changed a record folder, oldest first.

    The first-parent line is the history of the branch as it happened: a merged pull request
    counts as one change, made the day it was merged."""
    out = git(
        repository.top,
        "log",
        "--first-parent",
        "--reverse",
        "--format=%H %cs",
        "HEAD",
        "--",
        *repository.pathspecs(),
    )
    commits = []
    for line in out.decode().splitlines():
        sha, date = line.split(" ", 1)
        commits.append(Commit(sha, date))
    return commits


def changed_files(
    repository: Repository, pairs: Iterable[tuple[str, str]]
) -> dict[str, list[FileChange]]:
    """The record files each commit changed since the one before it, for (commit, before)
    pairs, in one ``git diff-tree``."""
    pairs = list(pairs)
    if not pairs:
        return {}
    lines = "".join(f"{sha} {before}\n" for sha, before in pairs)
    out = git(
        repository.top,
        *("diff-tree", "--stdin", "-r", "-z", "--no-renames", "--", *repository.pathspecs()),
        stdin=lines.encode(),
        timeout=600,
    )
    changes: dict[str, list[FileChange]] = {sha: [] for sha, _ in pairs}
    fields = out.split(b"\0")
    current: list[FileChange] | None = None
    index = 0
    while index < len(fields):
        field = fields[index].decode("utf-8", "surrogateescape")
        index += 1
        if not field:
            continue
        if field.startswith(":"):  # ":old-mode new-mode old-blob new-blob status", then path
            _, _, _, blob, status = field[1:].split(" ")
            path = fields[index].decode("utf-8", "surrogateescape")
            index += 1
            if current is not None and path.startswith(repository.prefix):
                relative = path[len(repository.prefix) :]
                current.append(FileChange(relative, None if status == "D" else blob))
        else:  # a commit's ID, then its files
            current = changes.setdefault(field.split(" ")[0], [])
    return changes


def tree_files(repository: Repository, sha: str) -> list[FileChange]:
    """Every record file at commit ``sha``, as if added."""
    out = git(repository.top, "ls-tree", "-r", "-z", sha, "--", *repository.pathspecs())
    files = []
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.decode("utf-8", "surrogateescape").partition("\t")
        _, kind, blob = meta.split(" ")
        if kind == "blob" and path.startswith(repository.prefix):
            files.append(FileChange(path[len(repository.prefix) :], blob))
    return files


def read_blobs(repository: Repository, blobs: Iterable[str]) -> dict[str, bytes]:
    """The bytes of each blob, in one ``git cat-file --batch``."""
    wanted = list(dict.fromkeys(blobs))
    if not wanted:
        return {}
    batch = "".join(f"{blob}\n" for blob in wanted).encode()
    out = git(repository.top, "cat-file", "--batch", stdin=batch, timeout=600)
    found: dict[str, bytes] = {}
    position = 0
    for blob in wanted:
        end = out.index(b"\n", position)
        header = out[position:end].decode().split(" ")
        position = end + 1
        if len(header) < 3 or header[1] != "blob":
            raise RevisionNotFound(f"git cat-file cannot read blob {blob}: {' '.join(header)}")
        size = int(header[2])
        found[blob] = out[position : position + size]
        position += size + 1
    return found


def uncommitted_changes(repository: Repository) -> bool:
    """Whether the working tree's record files differ from HEAD: changes the history does
    not hold yet."""
    out = git(
        repository.top,
        "status",
        "--porcelain",
        "--untracked-files=all",
        "--",
        *repository.pathspecs(),
    )
    return bool(out.strip())


def changed_since(repository: Repository, tag: str) -> bool | None:
    """Whether a commit after ``tag`` (on HEAD's first-parent line) changed the records; None
    when the repository has no such tag (not fetched, or not made)."""
    if tag_commit(repository, tag) is None:
        return None
    out = git(
        repository.top,
        "rev-list",
        "--count",
        "--first-parent",
        f"refs/tags/{tag}..HEAD",
        "--",
        *repository.pathspecs(),
    )
    return int(out.decode().strip() or 0) > 0


def tag_commit(repository: Repository, tag: str) -> str | None:
    """The commit a tag marks, or None when the repository has no such tag."""
    try:
        out = git(repository.top, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
    except RevisionNotFound:
        return None
    return out.decode().strip()


def first_parent_line(repository: Repository, newer: str, older: str | None) -> set[str]:
    """The commits on ``newer``'s first-parent line that ``older`` does not reach (all of
    them when ``older`` is None)."""
    span = f"{older}..{newer}" if older else newer
    return set(git(repository.top, "rev-list", "--first-parent", span).decode().split())
