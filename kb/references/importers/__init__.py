"""Read reference exports (RIS, BibTeX, CSL-JSON) into the fields of study records.

Each reader turns a file into numbered entries, each either a dict of ``Study`` fields or the
reasons it cannot be read, so one bad entry never stops the rest; a note on an entry says
where it was read other than as written. What is read:

- **Text** (``text``): UTF-8 with or without a byte-order mark, UTF-16 with one (EndNote on
  Windows) or without (JabRef), any line endings (CR alone too). Other NUL bytes, or
  undecodable bytes, mean the file is not an export at all.
- **RIS** (``ris``) with rispy: Zotero, EndNote, Mendeley, Embase, Scopus; Web of Science
  tagged files (``FN``/``PT``) too. Records are split at ``TY``/``ER`` lines first, so a record
  cut off at the end of the file (no ``ER``) is flagged, export headers outside any record are
  ignored and reported, and tag lines outside any record are flagged.
- **BibTeX** (``bibtex``) with bibtexparser v2's middlewares: ``@string`` macros, ``#``
  concatenation, month macros, ``crossref`` inheritance, LaTeX decoded to Unicode
  (``markup``), ``{Braced Names}`` read as organisations, broken entries reported with their
  line and field.
- **CSL-JSON** (``csl``; Better BibTeX, Zotero): a list of items, each checked against the
  schema's required ``id`` and ``type`` and its name and date shapes; rich-text markup removed.

Names become 'Family, I.' (the record format, ``names``); a name in one field (``World Health
Organization``) is an organisation's and is kept whole. The year is the first four-digit year
of the date; none is left empty. A DOI given only as a doi.org URL becomes the DOI.

**Types are never guessed.** An export's item type says what kind of publication it is, not
the study's design, so only the clear cases are mapped (``BOOK_TYPES``, ``COMMENTARY_TYPES``,
``DATASET_TYPES``, ``COMMUNICATION_TYPES``); everything else, journal articles and reports
included, is imported as ``unclassified`` for a reviewer to classify (``kb check`` warns).

**Libraries first.** rispy, bibtexparser and pylatexenc do the reading; what is written here
is only what none of them does, each module's docstring saying what and why: UTF-16 without a
byte-order mark (``text``), RIS dialects and header lines (``ris``), people's names without a
comma (``names``), ``#`` concatenation and ``crossref`` (``bibtex``), the macros and math
sub- and superscripts pylatexenc lacks, and CSL rich text (``markup``), web addresses without
a scheme (``fields``).

In: a file's path (and optionally its format). Out: ``References``: its format, its
``ImportEntry`` list and the lines it ignored; ``UnreadableImport`` when the file as a whole
cannot be read. The package imports kb's errors, models, settings and
``load.undecodable_byte``, never the store, the CLI or ``kb.edits.add``.
"""

from pathlib import Path

from kb.errors import UnreadableImport
from kb.references.importers.fields import MAX_NESTING, ImportEntry, References, study_type
from kb.settings import number_setting

__all__ = [
    "FORMATS",
    "MAX_NESTING",
    "ImportEntry",
    "References",
    "read_references",
    "study_type",
]

FORMATS = ("ris", "bibtex", "csl-json")


def read_references(
    path: Path, format_name: str | None = None, max_bytes: int | None = None
) -> References:
    """Read an export file: its format, its entries (readable or not), the lines it ignored.

    ``max_bytes`` defaults to the ``max_import_bytes`` setting.
    """
    # The readers (rispy, bibtexparser, pylatexenc) are loaded only to read a file, so that
    # `kb --help` and `kb import --help`, which name FORMATS, stay quick.
    from kb.references.importers.bibtex import bibtex_entries
    from kb.references.importers.csl import csl_entries
    from kb.references.importers.ris import ris_entries
    from kb.references.importers.text import decode, detect_format, read_capped

    if max_bytes is None:
        max_bytes = number_setting("max_import_bytes")
    text = decode(read_capped(path, max_bytes), path.name)
    if not text.strip():
        raise UnreadableImport(f"{path.name} is empty")
    chosen = format_name or detect_format(text)
    if chosen is None:
        raise UnreadableImport(
            f"cannot tell which format {path.name} is in; name it with "
            "--format ris, --format bibtex or --format csl-json"
        )
    reader = {"ris": ris_entries, "bibtex": bibtex_entries, "csl-json": csl_entries}[chosen]
    try:
        found = reader(text)
    except UnreadableImport as error:
        raise UnreadableImport(f"{path.name}: {error}") from None
    if not found.entries:
        raise UnreadableImport(f"{path.name} holds no {chosen} references")
    return found
