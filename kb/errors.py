"""The kinds of failure the knowledge base reports to its users.

Each one is shown as a clear message with exit code 1; a traceback means a bug.
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


class DatabaseMissing(KnowledgeBaseError):
    """A command needs the SQLite store, and it has not been built yet."""


class StoreCheckFailed(KnowledgeBaseError):
    """The freshly built database failed SQLite's integrity or foreign-key check."""


class RecordNotFound(KnowledgeBaseError):
    """No record has the requested ID."""
