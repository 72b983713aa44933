"""Pages at old addresses: a redirect at every former ID's address, and a page for every
removed record that says it was removed, when, by whom and why (``kb.store.aliases``).

A redirect is a small HTML file of its own, copied into the site as it is: it sends the
browser on at once (a refresh in its head, and a line of script that keeps the address's
``#fragment``), names the new address as canonical, and links to it for a reader whose
browser does neither. Its links are relative, so it works under any sub-path.
"""

import html
import json
from collections.abc import Iterator

from kb.errors import PageClash
from kb.records.document import Document, entries
from kb.records.types import TYPES
from kb.records.urls import record_url
from kb.render.pages import PageWriter, relative_url, token


def redirect_html(old_path: str, new_path: str, title: str, canonical: str | None) -> str:
    """The redirect page at site path ``old_path`` to ``new_path``, a record titled
    ``title``; ``canonical`` is its absolute address, when the site's address is known."""
    target = relative_url(old_path, new_path)
    shown = html.escape(title)
    href = html.escape(target)
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Moved: {shown}</title>\n"
        '<meta name="robots" content="noindex">\n'
        f'<link rel="canonical" href="{html.escape(canonical or target)}">\n'
        f'<meta http-equiv="refresh" content="0; url={href}">\n'
        f"<script>location.replace({json.dumps(target)} + location.search + location.hash)"
        "</script>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "</head>\n<body>\n"
        f'<p>This page has moved to <a href="{href}">{shown}</a>.</p>\n'
        "</body>\n</html>\n"
    )


def _redirects(document: Document) -> Iterator[tuple[str, str, str, str]]:
    """(record type, old ID, new ID, title) for every former ID of every record, a removed
    record's included (its page says it was removed)."""
    for key, record_type in TYPES.items():
        for record in entries(document, key):
            title = record.get("title") or record.get("name") or record["id"]
            for old in record["former_ids"]:
                yield record_type, old, record["id"], str(title)
    for removed in document["removed"]:
        for old in removed["former_ids"]:
            yield removed["type"], old, removed["id"], f"{removed['title']} (removed)"


def write_address_pages(writer: PageWriter) -> int:
    """Write a redirect for every former ID and a page for every removed record (with its
    history, for a recommendation); return how many files."""
    document = writer.model.document
    written = 0
    for record_type, old, new, title in _redirects(document):
        old_path = record_url(record_type, token(old))
        new_path = record_url(record_type, token(new))
        target = writer.folder / old_path / "index.html"
        if target.exists():
            raise PageClash(f"docs/{old_path}index.html has the path of a redirect; move it")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            redirect_html(old_path, new_path, title, writer.absolute(new_path)), encoding="utf-8"
        )
        written += 1
    for removed in document.get("removed", []):
        path = record_url(removed["type"], token(removed["id"]))
        writer.write(
            f"{path.rstrip('/')}.md",
            "removed.md.j2",
            {"search": {"exclude": True}, "hide": ["navigation"]},
            removed=removed,
            history=writer.history_of(removed["id"])
            if removed["type"] == "recommendation"
            else None,
        )
        written += 1
    return written
