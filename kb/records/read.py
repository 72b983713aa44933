"""Every record of a knowledge base, read from disk and checked (``kb check``).

Takes the knowledge base's folder (``kb.paths.Paths``); gives the validated
``KnowledgeBase`` and every problem found, in file order.
"""

from kb.errors import Problem, RecordsInvalid
from kb.paths import Paths
from kb.records.load import load_records
from kb.records.validate import KnowledgeBase, validate_records
from kb.settings import number_setting

# The kinds of record, in the order the knowledge base lists and counts them.
RECORD_KINDS = ("source", "theme", "recommendation", "study", "example", "figure")


def check(paths: Paths) -> tuple[KnowledgeBase, list[Problem]]:
    """Load and validate every record; return the knowledge base and all problems found."""
    records, problems = load_records(
        paths.root,
        max_file_bytes=number_setting("max_file_bytes"),
        max_field_chars=number_setting("max_field_chars"),
    )
    knowledge_base, found = validate_records(paths.root, records)
    return knowledge_base, sorted(problems + found)


def checked(paths: Paths) -> tuple[KnowledgeBase, list[Problem]]:
    """Like ``check``, but raise ``RecordsInvalid`` when any problem is an error."""
    knowledge_base, problems = check(paths)
    if any(problem.severity == "error" for problem in problems):
        raise RecordsInvalid(problems)
    return knowledge_base, problems
