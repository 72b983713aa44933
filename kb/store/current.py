"""A store current with the records: built from them when they changed since.

Takes the knowledge base's folder (``kb.paths.Paths``); gives the SQLite store
(``kb.store.database``) built from its checked records (``kb.records.read``).
"""

from sqlalchemy.engine import Engine

from kb.errors import Problem
from kb.paths import Paths, store_is_current
from kb.records.read import checked
from kb.store import database
from kb.store.changed import check_changes


def build_db(paths: Paths) -> tuple[dict[str, int], list[Problem]]:
    """Validate the records and write the SQLite store; return row counts and warnings."""
    knowledge_base, warnings = checked(paths, keep_parsed=True)
    return database.build_db(knowledge_base, paths.database, warnings), warnings


def current_store(paths: Paths) -> Engine:
    """The store, brought up to date first if the records changed since it was built."""
    if not store_is_current(paths) and check_changes(paths) is None:
        knowledge_base, warnings = checked(paths, keep_parsed=True)
        database.update_store(knowledge_base, paths.database, warnings)
    return database.open_store(paths.database)
