"""Every record of a knowledge base, read from disk and checked (``kb check``).

Takes the knowledge base's folder (``kb.paths.Paths``); gives the validated
``KnowledgeBase`` and every problem found, in file order.
"""

from kb.errors import Problem, RecordsInvalid
from kb.paths import Paths
from kb.records.load import ReadLimits, load_records
from kb.records.parsed import ParsedRecords, parsed_records_file
from kb.records.validate import KnowledgeBase, validate_records
from kb.settings import number_setting

# The kinds of record, in the order the knowledge base lists and counts them.
RECORD_KINDS = ("source", "theme", "recommendation", "study", "example", "figure")


def read_limits() -> ReadLimits:
    """The file and field size caps ``kb check`` reads records with."""
    return {
        "max_file_bytes": number_setting("max_file_bytes"),
        "max_field_chars": number_setting("max_field_chars"),
    }


def check(paths: Paths, keep_parsed: bool = False) -> tuple[KnowledgeBase, list[Problem]]:
    """Load and validate every record; return the knowledge base and all problems found.

    Files whose bytes the last build parsed are not parsed again (``kb.records.parsed``); with
    ``keep_parsed``, as in the build, what this check parsed is kept for the next, unless it
    found an error."""
    limits = read_limits()
    parsed = ParsedRecords(parsed_records_file(paths.database), **limits)
    records, problems = load_records(paths.root, **limits, parsed=parsed)
    knowledge_base, found = validate_records(paths.root, records)
    problems = sorted(problems + found)
    if keep_parsed and not any(problem.severity == "error" for problem in problems):
        parsed.save()  # a build that fails writes nothing, this included
    return knowledge_base, problems


def checked(paths: Paths, keep_parsed: bool = False) -> tuple[KnowledgeBase, list[Problem]]:
    """Like ``check``, but raise ``RecordsInvalid`` when any problem is an error."""
    knowledge_base, problems = check(paths, keep_parsed)
    if any(problem.severity == "error" for problem in problems):
        raise RecordsInvalid(problems)
    return knowledge_base, problems
