"""A store current with the records: built from them when they changed since.

Takes the knowledge base's folder (``kb.paths.Paths``); gives the SQLite store
(``kb.store.database``) built from its checked records (``kb.records.read``).
"""

import time

from sqlalchemy.engine import Engine

from kb.errors import Problem
from kb.paths import Paths, store_is_current
from kb.records.read import RECORD_KINDS, checked
from kb.store import database
from kb.store.changed import StoreUpdate, check_changes


def build_db(paths: Paths) -> tuple[dict[str, int], list[Problem]]:
    """Validate the records and write the SQLite store; return row counts and warnings."""
    knowledge_base, warnings = checked(paths, keep_parsed=True)
    return database.build_db(knowledge_base, paths.database, warnings), warnings


def bring_up_to_date(paths: Paths) -> StoreUpdate:
    """Check the records and bring the store up to date with them: a few changed studies
    checked against the store where that gives what a full check gives (``kb.store.changed``),
    else every record checked and the store changed in place or written afresh
    (``database.update_store``). Raises ``RecordsInvalid`` when a record has an error."""
    started = time.perf_counter()
    changes = check_changes(paths)
    if changes is not None:
        return changes
    knowledge_base, warnings = checked(paths, keep_parsed=True)
    check_seconds = time.perf_counter() - started
    started = time.perf_counter()
    counts, replaced = database.update_store(knowledge_base, paths.database, warnings)
    return StoreUpdate(
        sum(len(knowledge_base.by_kind(kind)) for kind in RECORD_KINDS),
        sum(1 for _ in knowledge_base.findings()),
        sum(counts.values()),
        warnings,
        replaced,
        False,
        check_seconds,
        time.perf_counter() - started,
    )


def current_store(paths: Paths) -> Engine:
    """The store, brought up to date first if the records changed since it was built."""
    if not store_is_current(paths):
        bring_up_to_date(paths)
    return database.open_store(paths.database)
