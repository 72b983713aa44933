"""The kinds of failure the knowledge base reports to its users.

Each one is shown as a clear message with exit code 1 (2 for ``SettingInvalid``, a usage
error); a traceback means a bug.
"""

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one record, located as precisely as the input allows."""

    path: str
    line: int
    record_id: str
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {self.record_id}: {self.field}: {prefix}{self.message}"


class KnowledgeBaseError(Exception):
    """Base class for every failure caused by input rather than by a bug."""


class RecordsInvalid(KnowledgeBaseError):
    """The records on disk failed validation; ``problems`` lists every failure found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = sum(1 for problem in problems if problem.severity == "error")
        super().__init__(f"{errors} problem{'s' if errors != 1 else ''} found")


class NotAKnowledgeBase(KnowledgeBaseError):
    """The root folder holds neither ``recommendations/`` nor ``evidence/``."""


class SettingInvalid(KnowledgeBaseError):
    """A setting, given as an option or a ``KB_*`` variable, has a value of the wrong kind."""


class DatabaseMissing(KnowledgeBaseError):
    """A command needs the SQLite store, and it has not been built yet."""


class StoreCheckFailed(KnowledgeBaseError):
    """The freshly built database failed SQLite's integrity or foreign-key check."""


class RecordNotFound(KnowledgeBaseError):
    """No record has the requested ID."""


class RecordRenamed(RecordNotFound):
    """The requested ID is a former ID of a record, which has another ID now."""


class RecordRemoved(RecordNotFound):
    """The requested ID belonged to a record that was removed (it has a tombstone)."""


class RecordExists(KnowledgeBaseError):
    """A record with that ID is already on disk, and --force was not given."""


class ChangeRefused(KnowledgeBaseError):
    """A record to be added or changed is invalid or a duplicate; nothing was written."""


class UnreadableImport(KnowledgeBaseError):
    """An import file is not text, or not in a reference format kb reads."""


class SearchQueryError(KnowledgeBaseError):
    """A search query cannot be read: unbalanced quotes or brackets, an unknown field, too long."""


class IndexMissing(KnowledgeBaseError):
    """A search needs the search index, and it has not been built yet."""


class PageClash(KnowledgeBaseError):
    """A hand-written page in docs/ has the path of a generated page."""


class SiteBuildFailed(KnowledgeBaseError):
    """MkDocs could not build the site; the previous site is unchanged."""


class IndexBuildFailed(KnowledgeBaseError):
    """The worker process building the search index stopped without finishing."""


class DownloadsFailed(KnowledgeBaseError):
    """The process writing the site's downloads stopped without finishing."""


class RevisionNotFound(KnowledgeBaseError):
    """A git revision cannot be read: no such name, no git, or no knowledge base in it."""


class RevisionInvalid(KnowledgeBaseError):
    """The records at a git revision do not validate, so that revision cannot be compared."""

    def __init__(self, revision: str, problems: list[Problem]):
        self.revision = revision
        self.problems = [problem for problem in problems if problem.severity == "error"]
        count = len(self.problems)
        super().__init__(
            f"the records at {revision} do not validate with this version of kb "
            f"({count} problem{'s' if count != 1 else ''}); a revision from before a change "
            "of record format can be compared through a `kb export` file made at the time"
        )


class NotAnExport(KnowledgeBaseError):
    """A file given to compare is not a JSON document written by `kb export`."""


class ReleaseFileInvalid(KnowledgeBaseError):
    """kb-release.yaml is missing, unreadable, or lists a release wrongly."""


class SiteConfigInvalid(KnowledgeBaseError):
    """mkdocs.yml cannot be read, or its site_name or site_url is not usable."""


class BriefSelectionInvalid(KnowledgeBaseError):
    """A brief's selection names no record, a record that is not a statement, or nothing."""


class OutputNotWritten(KnowledgeBaseError):
    """A file the command was asked to write (``--output``) cannot be written."""
