"""Private APIs of our libraries are used only where fenced, and do what we rely on.

Each library's private API is reached from one module (kb/search/whoosh_internals.py for
Whoosh, kb/brief/word.py for python-docx's XML, which has no public way to write a hyperlink or
a repeating header row). The tests below compare each private use of Whoosh with the answer
Whoosh gives through its public API, so an upgrade that changes what we rely on fails here.
benchmarks/private_api.py measures what each use buys.
"""

import ast
import shutil
from pathlib import Path
from typing import Any

import pytest
from whoosh import index
from whoosh.util.numeric import byte_to_length

from kb import pipeline, search
from kb.search import postings, whoosh_internals
from kb.store.current import current_store
from tests.conftest import REPOSITORY
from tests.test_search import add_note, built

pytestmark = pytest.mark.unit

# Module → the library whose private names it may use.
FENCES = {
    "kb/search/whoosh_internals.py": "whoosh",
    "kb/brief/word.py": "docx",
}
# Attributes of our own that we keep on a library's objects (a cache per searcher or reader).
OUR_OWN_PREFIX = "_kb_"


def private_uses(path: Path) -> list[str]:
    """Private names a module reaches on objects other than its own (``self``, ``cls``), and
    private names it imports from another package."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute):
            name, owner = node.attr, node.value
            own = isinstance(owner, ast.Name) and owner.id in {"self", "cls"}
            private = name.startswith("_") and not name.startswith(("__", OUR_OWN_PREFIX))
            if private and not own:
                found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if (node.module or "kb").split(".")[0] == "kb":
                continue
            found.extend(
                f"{path}:{node.lineno}: from {node.module} import {alias.name}"
                for alias in node.names
                if alias.name.startswith("_")
            )
    return found


def test_private_apis_are_used_only_in_their_fences() -> None:
    outside = [
        use
        for path in sorted((REPOSITORY / "kb").rglob("*.py"))
        if path.relative_to(REPOSITORY).as_posix() not in FENCES
        for use in private_uses(path)
    ]
    assert outside == [], "private API used outside its module (see this file's docstring)"
    for module in FENCES:
        assert private_uses(REPOSITORY / module), f"{module} no longer needs its fence"


def test_the_fence_test_finds_a_private_use(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "from whoosh.system import _INT_SIZE\n"
        "def f(reader, self):\n"
        "    reader._kb_cache = self._mine\n"
        "    return reader._segment\n"
    )
    assert [use.split(": ", 1)[1] for use in private_uses(module)] == [
        "from whoosh.system import _INT_SIZE",
        "reader._segment",
    ]


@pytest.fixture
def two_segments(tiny_kb: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny knowledge base's index, in two segments, one with a deleted document."""
    monkeypatch.setattr(postings, "COMPACT_MIN_POSTINGS", 1)
    paths = built(tiny_kb)
    add_note(tiny_kb, "recommendations/targets.yaml", "Targets at board level.")
    search.update_index(current_store(paths), paths.index)
    return paths.index


def test_whoosh_private_reads_give_what_the_public_api_gives(two_segments: Path) -> None:
    with index.open_dir(two_segments).searcher() as searcher:
        readers = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        assert len(readers) == 2 and any(reader.has_deletions() for reader in readers)
        terms = 0
        for reader in readers:
            for fieldname, text in reader.all_terms():
                public = reader.postings(fieldname, text)
                expected: tuple[list[int], list[float], list[object]] = ([], [], [])
                while public.is_active():
                    expected[0].append(public.id())
                    expected[1].append(public.weight())
                    expected[2].append(public.value())
                    public.next()
                assert whoosh_internals.block_postings(reader.postings(fieldname, text)) == (
                    expected
                ), (fieldname, text)
                terms += 1
            perdoc = whoosh_internals.per_document_reader(reader)
            for fieldname in reader.schema.scorable_names():
                lengths = whoosh_internals.lengths_column(perdoc, fieldname) or b""
                for docnum in range(reader.doc_count_all()):
                    encoded = lengths[docnum] if docnum < len(lengths) else 0
                    assert (byte_to_length(encoded) if encoded else None) == (
                        reader.doc_field_length(docnum, fieldname, 0)
                    ), (fieldname, docnum)
            column = reader.column_reader("prior")
            assert postings._segment_priors(reader) == [
                column[docnum] or 100 for docnum in range(reader.doc_count_all())
            ]
            assert whoosh_internals.segment_file(reader, postings.COMPACT_EXT) is not None
        assert terms > 50
    # Each segment stays in separate files: Whoosh copies a compound file's parts into memory
    # when it opens them (SegmentWriterWithCopy).
    assert not list(two_segments.glob("*.seg"))


def test_our_bm25_scores_are_whoosh_own(tiny_kb: Path) -> None:
    """``field_b`` and the length bytes read privately score every posting as Whoosh's own
    scorer does."""
    paths = built(tiny_kb)
    with index.open_dir(paths.index).searcher() as searcher:
        reader = searcher.reader()
        ours = postings.PostingsReader(searcher)
        scored = 0
        for fieldname, text in reader.all_terms():
            if fieldname not in postings.RANKED_FIELDS:
                continue
            score = ours.term_scorer(fieldname, text)
            lengths = postings._segment_lengths(reader, fieldname)
            theirs = searcher.weighting.scorer(searcher, fieldname, text)
            matcher = reader.postings(fieldname, text)
            while matcher.is_active():
                expected = theirs.score(matcher)
                found = score(matcher.weight(), lengths[matcher.id()])
                assert found == pytest.approx(expected), (fieldname, text)
                scored += 1
                matcher.next()
        assert scored > 50


def _segment_contents(folder: Path) -> list[tuple[Any, ...]]:
    """Every term's postings and their blocks' length bounds, through Whoosh's public API."""
    contents = []
    with index.open_dir(folder).searcher() as searcher:
        reader = searcher.reader()
        for fieldname, text in reader.all_terms():
            matcher = reader.postings(fieldname, text)
            bounds = (matcher.block_min_length(), matcher.block_max_length())
            postings_ = []
            while matcher.is_active():
                postings_.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            contents.append((fieldname, text, bounds, postings_))
        for fieldname in reader.schema.scorable_names():
            contents.append((fieldname, reader.field_length(fieldname)))
            contents.append((fieldname, reader.min_field_length(fieldname)))
            contents.append((fieldname, reader.max_field_length(fieldname)))
    return contents


def test_the_whoosh_writer_writes_what_whoosh_own_writer_writes(
    tiny_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Field lengths read once per field (``SegmentWriterWithCopy``) give the segment that
    Whoosh's own per-document reader gives."""
    ours = built(tiny_kb).index
    theirs = tiny_kb / "build" / "stock-index"
    stock = whoosh_internals.SegmentWriter.per_document_reader
    monkeypatch.setattr(whoosh_internals.SegmentWriterWithCopy, "per_document_reader", stock)
    search.build_index(current_store(pipeline.Paths.for_root(tiny_kb)), theirs)
    contents = _segment_contents(ours)
    assert len(contents) > 100
    assert contents == _segment_contents(theirs)


# --- python-docx ------------------------------------------------------------------------------


def test_word_briefs_write_what_python_docx_writes_through_its_public_calls(tmp_path: Path) -> None:
    """kb/brief/word.py writes paragraphs, runs, table rows and the zip its own way
    (``_QuickDocument``, ``_text_run``, ``_add_row``, ``_dated_save``); a brief of the whole
    real knowledge base, in English and in Welsh, is the same file, byte for byte, as
    through python-docx's public calls only (``public_api_only``)."""
    import docx

    from kb.brief import word
    from tests.conftest import run_kb

    root = tmp_path / "kb"
    for folder in ("recommendations", "evidence"):
        shutil.copytree(REPOSITORY / folder, root / folder)

    def briefs() -> dict[str, bytes]:
        made = {}
        for language in ("en", "cy"):
            output = tmp_path / f"brief-{language}.docx"
            result = run_kb("brief", "--root", root, "--lang", language, "--min-strength", "S0",
                            "-o", output)  # fmt: skip
            assert result.exit_code == 0, result.output
            made[language] = output.read_bytes()
        return made

    quick = briefs()
    with word.public_api_only():
        assert briefs() == quick
    paragraph = docx.Document().add_paragraph()
    word._text_run(paragraph, "a\tb\nc")  # a tab or a line break: python-docx's own reading
    assert [child.tag.rsplit("}", 1)[1] for child in paragraph.runs[0]._r] == [
        "t", "tab", "t", "br", "t"
    ]  # fmt: skip
