"""Stable site paths for records, shared by the search results and the generated pages."""

from kb.records.types import PLURALS


def record_url(record_type: str, record_id: str, recommendation_id: str | None = None) -> str:
    """Path of a record's page relative to the site root, e.g. ``recommendations/hsc-data-1/``.

    Evidence links have no page of their own: they are a row, with an anchor, on the page of
    the recommendation they bear on.
    """
    if record_type == "evidence":
        if recommendation_id is None:
            raise ValueError("an evidence link's URL needs its recommendation")
        return f"{record_url('recommendation', recommendation_id)}#evidence-{record_id}"
    return f"{PLURALS[record_type]}/{record_id}/"
