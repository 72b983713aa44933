"""`kb search` and kb.search: analysis, synonyms, filters, query errors, index builds, relevance."""

import json
import math
import os
import random
import shutil
from pathlib import Path

import pytest
from whoosh import index
from whoosh.qparser import QueryParser
from whoosh.writing import SegmentWriter

from kb import pipeline, search
from kb.errors import KnowledgeBaseError, RecordsInvalid, SearchQueryError
from kb.search import index as search_index
from kb.search import postings, ranking, whoosh_internals
from kb.search import stamp as search_stamp
from kb.search.nodes import build_tree
from kb.search.postings import PostingsReader
from kb.store import database as store
from kb.store.current import build_db, current_store
from tests.conftest import DATA, REPOSITORY, run_kb
from tests.relevance import load_cases, measure

pytestmark = pytest.mark.unit


def built(root: Path) -> pipeline.Paths:
    """Build the store and the search index of the knowledge base at ``root``."""
    paths = pipeline.Paths.for_root(root)
    search.build_index(current_store(paths), paths.index)
    return paths


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> pipeline.Paths:
    """The tiny knowledge base with its index, built once for the tests that only read it."""
    root = tmp_path_factory.mktemp("tiny") / "kb"
    shutil.copytree(DATA / "tiny", root)
    return built(root)


def ids(paths: pipeline.Paths, text: str, **filters: object) -> list[str]:
    return [result.id for result in search.search(paths.index, text, **filters).results]


def analysed(text: str, mode: str = "query", stem: bool = True) -> list[str]:
    return [token.text for token in search.text_analyzer(stem)(text, mode=mode)]


def rewrite(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def add_note(root: Path, relative: str, note: str) -> None:
    """Give a record a note: free text that is indexed, unlike quotes checked against the source."""
    with (root / relative).open("a", encoding="utf-8") as file:
        file.write(f"note: {note}\n")


# --- Analysis ---------------------------------------------------------------------------------


def test_hyphenated_spaced_and_joined_forms_meet() -> None:
    assert analysed("anti-racist", mode="index") == ["anti", "racist", "antiracist"]
    assert analysed("anti-racist") == analysed("antiracist") == ["antiracist"]
    assert analysed("over-sampling") == analysed("oversampling") == ["oversampl"]
    assert analysed("over sampling") == ["over", "sampl"]


def test_accents_are_folded() -> None:
    assert analysed("Cénat’s Gŵyl ŷ", stem=False) == ["cenat", "gwyl", "y"]


def test_stems_uk_and_us_spelling_and_acronym_plurals() -> None:
    assert analysed("applications") == analysed("application") == ["applic"]
    assert analysed("anonymized") == analysed("anonymised") == ["anonymis"]
    assert analysed("behavior") == analysed("behaviours")
    assert analysed("GPs CVs") == ["gp", "cv"]
    assert analysed("the women's health") == ["women", "health"]


@pytest.mark.parametrize("stem", [True, False])
def test_word_cache_gives_the_filter_chain_tokens(stem: bool) -> None:
    texts = [path.read_text(encoding="utf-8") for path in sorted(DATA.glob("tiny/**/*.yaml"))]
    texts.append("The the anti-racist lens: GPs' CVs, Cénat’s women's over-sampling organized")
    options = [
        {"mode": "index", "positions": True, "boosts": True},
        {"mode": "index", "positions": True, "chars": True},
        {"mode": "query", "chars": True, "removestops": False},
        {"mode": "index", "positions": True, "chars": True, "removestops": False},
        {"mode": "query", "positions": True},
        {"mode": "query", "start_pos": 3, "positions": True},  # through the chain itself
    ]
    cached, chain = search.text_analyzer(stem), search.analysis._filter_chain(stem)
    for text in texts:
        for option in options:

            def tokens(analyzer, option=option, text=text) -> list[tuple]:
                names = ("text", "pos", "startchar", "endchar", "stopped", "boost")
                return [
                    tuple(getattr(token, name, None) for name in names)
                    for token in analyzer(text, **option)
                ]

            assert tokens(cached) == tokens(chain), option


def test_joined_form_keeps_phrase_positions() -> None:
    tokens = search.text_analyzer()("anti-racist lens", mode="index", positions=True)
    assert [(token.text, token.pos) for token in tokens] == [
        ("anti", 0),
        ("racist", 1),
        ("antiracist", 1),
        ("~antiracist", 1),  # the synonym group's token (antiracist is a synonym term)
        ("len", 2),
    ]


def test_spelling_variants_find_each_other_in_a_hand_built_kb(tiny_kb: Path) -> None:
    add_note(
        tiny_kb, "recommendations/targets.yaml", "Anti-racist, with oversampling, as Cénat said."
    )
    paths = built(tiny_kb)
    for text in ("antiracist", "anti-racist", "anti racist", "over-sampling", "Cenat", "CÉNAT"):
        assert ids(paths, text) == ["targets"], text
    assert ids(paths, '"antiracist with oversampling"') == ["targets"]


# --- Synonyms ---------------------------------------------------------------------------------


def test_synonym_terms_are_indexed_as_their_group_token() -> None:
    [group] = [group for group in search.load_synonyms() if "BAME" in group.terms]
    token = search.analysis.group_token(group)
    text = "Black, Asian and minority ethnic staff, and BAME people"
    tokens = search.text_analyzer()(text, mode="index", positions=True, chars=True)
    found = [(t.pos, text[t.startchar : t.endchar]) for t in tokens if t.text == token]
    assert found == [(3, "Black, Asian and minority ethnic"), (5, "BAME")]
    assert token not in analysed(text)  # a query's words stay words


def test_notes_are_searched_for_words_no_title_or_statement_holds(tiny_kb: Path) -> None:
    add_note(tiny_kb, "recommendations/targets.yaml", "Publish quarterly; anonymised data.")
    paths = built(tiny_kb)
    assert ids(paths, "quarterly") == ["targets"]  # only in a note
    # "anonymised" is in a statement, so notes are not searched for it.
    assert "targets" not in ids(paths, "anonymised")
    assert "targets" in ids(paths, "context:anonymised")


def test_synonym_groups_are_well_formed() -> None:
    groups = search.load_synonyms()
    seen: dict[tuple[str, ...], str] = {}
    for group in groups:
        for term in group.terms:
            stems = search._stems(term)
            assert stems, f"{term!r} is only common words"
            assert seen.setdefault(stems, group.terms[0]) == group.terms[0], (
                f"{term!r} is in two groups"
            )
    terms = {term for group in groups for term in group.terms}
    assert {"BAME", "blind recruitment", "PPE", "MHA", "oversampling", "CV"} <= terms
    for group in groups:  # a term once: YAML splits an unquoted term at its commas
        written = [term.casefold() for term in group.terms]
        assert len(written) == len(set(written)), f"a term is repeated in {group.terms}"
    assert "equality, diversity and inclusion" in terms and "equality" not in terms
    assert "Gypsy, Roma and Traveller" in terms


def test_synonyms_for_the_gaps_people_hit(real_index: Path) -> None:
    cases = {  # query: a record that holds none of its words but should be found
        "complaints": "hsc-workplace-5",  # "raise concerns"
        "whistleblowing": "freedom-to-speak-up-guardians",
        "grievances": "hsc-workplace-5",
        "pay gap": "brown-2017",  # "ethnicity pay gaps"; also found before, by its words
        "wage gap": "brown-2017",
        "language barriers": "hsc-action-5",  # "translation"
        "refugees": "hsc-principles-4",  # "migration status"
        "asylum seekers": "hsc-principles-4",
        "Anti-racist Wales Action Plan": "hsc-action-1",  # "Race Equality Action Plan"
        "Gypsies and Travellers": "marsh-2020",  # "Gypsies, Roma, Travellers"
    }
    for text, expected in cases.items():
        found = [result.id for result in search.search(real_index, text, limit=5).results]
        assert expected in found, (text, found)
    assert search.search(real_index, "race equality").also_searched == []  # not EDI


def test_malformed_synonym_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "synonyms.yaml"
    path.write_text("- terms: [only-one]\n")
    with pytest.raises(ValueError, match="group 1 needs a list of two or more terms"):
        search.load_synonyms(path)
    path.write_text('- terms: [fine, "not (plain)"]\n')
    with pytest.raises(ValueError, match="is not a plain term"):
        search.load_synonyms(path)


def test_synonyms_are_found_longest_first() -> None:
    [match] = search.find_synonyms("Black, Asian and minority ethnic staff")
    assert match.start == 0
    assert "BAME" in match.alternatives
    assert "Black, Asian and minority ethnic" not in match.alternatives
    [ppe, head] = search.find_synonyms("PPE for headscarves")
    assert ppe.alternatives == ("personal protective equipment",)
    assert "head covering" in head.alternatives
    assert search.find_synonyms('"blind CVs" theme:blind') == []  # not in phrases or fields


def test_synonyms_are_searched_and_reported(tiny: pipeline.Paths) -> None:
    paths = tiny
    found = search.search(paths.index, "blind CVs", types=["recommendation"])
    assert [result.id for result in found.results] == ["anonymise"]
    assert "anonymised application" in found.also_searched
    assert found.results[0].highlights == [
        "Use **anonymised** job **applications** for every post."
    ]


# --- Filters and fielded queries --------------------------------------------------------------


def test_filters(tiny: pipeline.Paths) -> None:
    paths = tiny
    text = "applications OR targets OR staff"
    assert sorted(ids(paths, text)) == [
        "anonymise",
        "blind-cv-pilot",
        "krause-2012",
        "krause-2012--anonymise",
        "targets",
        "wales-staff-share",
    ]
    assert sorted(ids(paths, text, types=["study", "figure"])) == [
        "krause-2012",
        "wales-staff-share",
    ]
    # A recommendation's strength is its headline level: one study at S2 gives S1.
    assert sorted(ids(paths, text, min_strength="S2")) == ["krause-2012--anonymise"]
    assert sorted(ids(paths, text, min_strength="S1")) == ["anonymise", "krause-2012--anonymise"]
    assert ids(paths, text, min_strength="S3") == []
    evidence = ["krause-2012", "krause-2012--anonymise"]  # a study takes its findings' direction
    assert sorted(ids(paths, text, direction="positive")) == evidence
    assert "krause-2012" not in ids(paths, text, year_from=2013)
    assert "anonymise" in ids(paths, text, year_from=2013)  # the report's year, 2021
    assert ids(paths, text, theme="nowhere") == []
    assert len(ids(paths, text, theme="RECRUITMENT")) == 6  # studies and figures have themes too
    with pytest.raises(SearchQueryError, match="unknown strength 'S9'; use S0 to S5"):
        search.search(paths.index, text, min_strength="S9")
    with pytest.raises(SearchQueryError, match="unknown type 'paper'"):
        search.search(paths.index, text, types=["paper"])


def test_fielded_queries_filter_and_words_rank(tiny: pipeline.Paths) -> None:
    paths = tiny
    assert ids(paths, "theme:recruitment strength:S0") == ["targets"]
    assert ids(paths, "strength:s2 type:evidence") == ["krause-2012--anonymise"]
    assert ids(paths, "type:study year:2012") == ["krause-2012"]
    assert ids(paths, "year:[2013 TO] type:study") == []
    assert ids(paths, "recommendation:anonymise") == ["krause-2012--anonymise"]
    assert ids(paths, "type:recommendation publish")[0] == "targets"
    assert ids(paths, "anonymise")[0] == "anonymise"  # a record ID typed as a word
    assert ids(paths, '"job applications"') == ["anonymise"]
    assert ids(paths, '"applications job"') == []
    assert "blind-cv-pilot" in ids(paths, "applications")
    assert sorted(ids(paths, "applications NOT employers")) == [
        "anonymise",
        "krause-2012",
        "krause-2012--anonymise",
    ]


def test_a_field_group_searches_each_of_its_words_in_that_field(tiny: pipeline.Paths) -> None:
    grouped = ids(tiny, "title:(callbacks OR targets)")
    assert grouped == ids(tiny, "title:callbacks OR title:targets") == ["targets"]
    assert "krause-2012--anonymise" in ids(tiny, "callbacks OR targets")  # in its summary


def test_misspelt_words_are_corrected(tiny: pipeline.Paths) -> None:
    paths = tiny
    found = search.search(paths.index, "representaton targets")
    assert found.did_you_mean == "representation targets"
    assert [result.id for result in found.results] == ["targets"]
    assert search.search(paths.index, "targets").did_you_mean is None


def test_english_words_the_index_lacks_are_searched_as_typed(tiny: pipeline.Paths) -> None:
    # "yearn" is a letter from "year" and "gasps" from "gaps", which the index holds; but they
    # are English words, not misspellings, so they are never "corrected".
    for text in ("yearn", "gasps", "pilot yearn"):
        assert search.search(tiny.index, text).did_you_mean is None, text
    assert search.search(tiny.index, "yeer").did_you_mean == "year"  # not English: corrected


def test_the_english_word_list() -> None:
    words = search.english_words()
    assert len(words) > 50_000
    # British, British -ize and American spellings, inflected forms, reviewed extra words.
    for word in ("maternal", "drafting", "colour", "color", "organisation", "organization"):
        assert search.is_english(word), word
    for word in ("counselling", "counseling", "judgement", "judgment", "interpreters"):
        assert search.is_english(word), word
    for word in ("wellbeing", "whistleblowing", "minoritised", "coproduction", "codesign"):
        assert search.is_english(word), word  # extra-words.txt ("co-production" joined)
    # Misspellings, and proper names (a query's names are checked against the index).
    for word in ("materal", "representaton", "microagressions", "bereavment", "schwarz"):
        assert not search.is_english(word), word
    assert all(word.isalpha() and word.islower() and word.isascii() for word in words)


def test_the_english_word_list_is_made_from_scowl(tmp_path: Path) -> None:
    (tmp_path / "english-words.10").write_text("the\ncafé\nwell-being\ndog's\ndon't\n")
    (tmp_path / "british-words.50").write_text("colour\ncolours\n")
    (tmp_path / "american-words.70").write_text("zeroth\n")  # above size 60
    (tmp_path / "english-upper.10").write_text("English\n")
    (tmp_path / "english-proper-names.10").write_text("Schwarz\n")
    (tmp_path / "canadian-words.10").write_text("colourize\n")  # a category not used
    assert search.scowl_words(tmp_path) == ["cafe", "colour", "colours", "dont", "the", "wellbeing"]
    shipped = search.ENGLISH_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    listed = [line for line in shipped if not line.startswith("#")]
    assert listed == sorted(set(listed)), "english-words.txt is generated sorted, one a line"


def test_a_word_is_as_rare_in_every_field_and_rarity_is_squared(tiny: pipeline.Paths) -> None:
    with index.open_dir(tiny.index).searcher(weighting=search.query._PriorBM25F()) as searcher:
        count = searcher.doc_count_all()
        # "pilot": in three titles and two texts; counted as in three records in every field.
        assert [searcher.doc_frequency(name, b"pilot") for name in ("title", "text")] == [3, 2]
        expected = math.log(1 + (count - 3 + 0.5) / (3 + 0.5)) ** 2
        for name in search.RARITY_FIELDS:
            assert searcher.idf(name, b"pilot") == pytest.approx(expected), name
        assert searcher.idf("text", b"callback") > searcher.idf("text", b"applic")


# --- Query errors -----------------------------------------------------------------------------

MALFORMED = {
    '"anonymised applications': 'the query opens a phrase with " but does not close it',
    "(anonymised applications": "the query has a ( without a matching )",
    "anonymised) applications": "the query has a ) without a matching (",
    "*": "'*': a wildcard must follow some letters, e.g. recruit*",
    "*sation": "'*sation': a wildcard must follow some letters, e.g. recruit*",
    "colour:blue": (
        "unknown field 'colour'; fields are: id, title, text, context, type, kind, theme, "
        "strength, direction, study_type, year, actor, source, recommendation"
    ),
    "theme: recruitment": "theme: needs a value right after it, e.g. theme:x",
    "year:recent": "year:recent is not a year, e.g. year:2020 or year:[2015 TO]",
    "x" * 10_000: "the query is 10,000 characters long; the limit is 1,000",
    "\x00\x07 \t": "the query is empty; type some words to search for",
    "(" * 21 + "a" + ")" * 21: "the query nests brackets more than 20 deep; use fewer brackets",
    "NOT NOT anonymised": (
        'the query has "NOT NOT": put a word or a bracketed group after NOT, e.g. NOT targets'
    ),
    "pay AND OR gap": (
        'the query has "AND OR": put a word or a bracketed group after AND, e.g. pay AND gap, '
        "or pay AND NOT gap"
    ),
    "x ANDNOT ANDNOT y": (
        'the query has "ANDNOT ANDNOT": put a word or a bracketed group after ANDNOT, e.g. '
        "pay ANDNOT gap, or pay ANDNOT NOT gap"
    ),
    "anonymised\udcff": (
        "the query is not UTF-8 text (byte 0xff cannot be read); set your terminal to UTF-8 "
        "and type it again"
    ),
}


@pytest.mark.parametrize("text", sorted(MALFORMED), ids=lambda text: text[:24])
def test_malformed_query_is_a_clear_error(tiny: pipeline.Paths, text: str) -> None:
    paths = tiny
    with pytest.raises(SearchQueryError) as raised:
        search.search(paths.index, text)
    assert str(raised.value) == MALFORMED[text]
    result = run_kb("search", text, "--root", tiny.root)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: {MALFORMED[text]}\n"


def test_control_characters_and_question_marks_are_ignored(tiny: pipeline.Paths) -> None:
    paths = tiny
    found = search.search(paths.index, "anonymised\x00\x1b[31m   applications?\u200b")
    assert found.query == "anonymised [31m applications"
    assert found.results[0].id == "anonymise"
    assert ids(paths, "Note: anonymised")[0] == "anonymise"  # a colon after a word is text


def test_random_queries_never_raise_anything_but_a_query_error(tiny: pipeline.Paths) -> None:
    pieces = ['"', "(", ")", "*", "?", ":", "^", "~", "[", "]", "{", "}", "AND", "OR", "NOT"]
    pieces += ["ANDNOT", "ANDMAYBE", "REQUIRE"]
    pieces += ["theme:", "year:", "year:[2010 TO]", "type:study", "strength:S3", "TO", "2020"]
    pieces += ["BAME", "blind", "anti-racist", "Cénat", "\x00", "\x1b", "-", "'", "\\", "/"]
    pieces += ["~2", "^3", "🙂", "<", "&", "|", "!", "+", ",", "=", " ", " ", " "]
    generator = random.Random(42)
    for _ in range(300):
        words = generator.choices(pieces, k=generator.randint(1, 8))
        text = "".join(word + generator.choice(["", " "]) for word in words)
        try:
            search.search(tiny.index, text, limit=3)
        except SearchQueryError as error:  # one of ours, not Whoosh's internals passed on
            assert "could not read the query" not in str(error), text


def test_operator_chains_take_linear_time(tiny: pipeline.Paths, monkeypatch) -> None:
    # Whoosh builds both sides of ANDNOT, ANDMAYBE and REQUIRE twice: 2^n for a chain of n.
    calls = []
    term_query = QueryParser.term_query
    monkeypatch.setattr(
        QueryParser, "term_query", lambda *args, **kw: calls.append(1) or term_query(*args, **kw)
    )
    for operator in ("ANDNOT", "ANDMAYBE", "REQUIRE"):
        calls.clear()
        search.search(tiny.index, " ".join(f"w{n} {operator}" for n in range(12)) + " z")
        assert len(calls) <= 13 * len(search.FIELD_BOOSTS), operator


def test_search_without_an_index_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match=r"no search index at .*; run `kb search`"):
        search.search(tmp_path / "index", "targets")


# --- Building and updating the index ----------------------------------------------------------


def test_build_counts_documents_by_type(tiny_kb: Path) -> None:
    paths = pipeline.Paths.for_root(tiny_kb)
    counts = search.build_index(current_store(paths), paths.index)
    assert counts == {"recommendation": 2, "study": 1, "evidence": 1, "example": 1, "figure": 1}
    stored = index.open_dir(paths.index).searcher().document(key="recommendation:targets")
    assert set(stored) == {
        "key", "id", "type", "kind", "label", "text", "strength", "year", "digest",
    }  # fmt: skip


def test_update_builds_only_the_documents_of_changed_records(tiny_kb: Path, monkeypatch) -> None:
    paths = built(tiny_kb)
    asked: list[object] = []
    original = search_index.index_documents

    def spy(engine, only=None):
        asked.append(only)
        return original(engine, only)

    monkeypatch.setattr(search_index, "index_documents", spy)
    add_note(tiny_kb, "evidence/studies/krause-2012.yaml", "Reviewed blind.")
    counts = search.update_index(current_store(paths), paths.index)
    assert counts == {"added": 0, "updated": 1, "deleted": 0, "unchanged": 5}
    assert ids(paths, "reviewed") == ["krause-2012"]
    assert asked == [
        {
            "recommendation": {"anonymise"},  # its headline level rests on the study's links
            "study": {"krause-2012"},
            "evidence": {"krause-2012--anonymise"},
            "example": set(),
            "figure": set(),
        }
    ]
    asked.clear()
    assert search.update_index(current_store(paths), paths.index)["unchanged"] == 6
    assert asked == []  # nothing changed: nothing built

    # Without the saved digests (an index from an older version), every document is compared.
    (paths.index / search_index.DIGESTS).unlink()
    assert search.update_index(current_store(paths), paths.index)["unchanged"] == 6
    assert asked == [None]
    assert (paths.index / search_index.DIGESTS).is_file()


def test_compact_postings_are_whoosh_postings(tiny_kb: Path, monkeypatch) -> None:
    monkeypatch.setattr(postings, "COMPACT_MIN_POSTINGS", 1)  # every list, even short ones
    paths = built(tiny_kb)
    before = search.search(paths.index, "applications targets")
    add_note(tiny_kb, "recommendations/targets.yaml", "Targets at board level.")
    search.update_index(current_store(paths), paths.index)  # a second segment
    with index.open_dir(paths.index).searcher() as searcher:
        readers = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        assert len(readers) == 2 and any(reader.has_deletions() for reader in readers)
        compared = 0
        for reader in readers:
            for fieldname, text in reader.all_terms():
                if fieldname not in postings.RANKED_FIELDS:
                    continue
                ids_, weights, _ = whoosh_internals.block_postings(reader.postings(fieldname, text))
                table = postings._segment_lengths(reader, fieldname)
                expected = (ids_, weights, bytes(table[docnum] for docnum in ids_))
                found = postings._compact_postings(reader, fieldname, text)
                assert found is not None, (fieldname, text)
                compact_ids, compact_weights, lengths, pairs = found
                assert (list(compact_ids), list(compact_weights), bytes(lengths)) == expected
                pairs_found = set(zip(weights, expected[2], strict=True))
                if not reader.has_deletions():  # else it may hold a deleted document's pair
                    assert set(pairs) <= pairs_found
                assert all(any(w >= x and n <= y for w, n in pairs) for x, y in pairs_found)
                compared += 1
        assert compared > 50
    after = search.search(paths.index, "applications targets")
    assert [r.id for r in after.results] == [r.id for r in before.results]
    assert after.total == before.total
    assert ids(paths, "board") == ["targets"]


def test_failed_build_leaves_the_previous_index(tiny_kb: Path, monkeypatch) -> None:
    paths = built(tiny_kb)
    before = sorted(path.name for path in paths.index.iterdir())
    add_note(tiny_kb, "recommendations/targets.yaml", "At board level.")
    engine = current_store(paths)

    def fail_midway(writer, documents):
        writer.add_document(**documents[0])
        raise RuntimeError("killed mid-build")

    monkeypatch.setattr(search_index, "_add_all", fail_midway)
    with pytest.raises(RuntimeError):
        search.build_index(engine, paths.index)
    assert sorted(path.name for path in paths.index.iterdir()) == before
    kept = ["index", "kb.sqlite", "parsed-records.marshal"]  # nothing half-written beside them
    assert sorted(path.name for path in paths.index.parent.iterdir()) == kept
    assert ids(paths, "senior") == ["targets"]
    assert ids(paths, "board") == []


def test_update_reindexes_only_changed_records(tiny_kb: Path, monkeypatch) -> None:
    paths = built(tiny_kb)
    updated: list[str] = []
    original = SegmentWriter.update_document

    def spy(writer, **fields):
        updated.append(fields["key"])
        return original(writer, **fields)

    monkeypatch.setattr(SegmentWriter, "update_document", spy)
    engine = current_store(paths)
    assert search.update_index(engine, paths.index) == {
        "added": 0,
        "updated": 0,
        "deleted": 0,
        "unchanged": 6,
    }
    add_note(tiny_kb, "recommendations/targets.yaml", "At board level.")
    engine = current_store(paths)
    assert search.update_index(engine, paths.index)["updated"] == 1
    assert updated == ["recommendation:targets"]
    assert ids(paths, "board") == ["targets"]

    # A title is shown on the evidence links to the recommendation, so they follow it.
    updated.clear()
    rewrite(tiny_kb, "recommendations/anonymise.yaml", "title: Anonymise", "title: Hide names in")
    search.update_index(current_store(paths), paths.index)
    assert sorted(updated) == ["evidence:krause-2012--anonymise", "recommendation:anonymise"]

    updated.clear()
    (tiny_kb / "evidence" / "figures" / "wales-staff-share.yaml").unlink()
    engine = current_store(paths)
    assert search.update_index(engine, paths.index) == {
        "added": 0,
        "updated": 0,
        "deleted": 1,
        "unchanged": 5,
    }
    assert updated == []
    assert ids(paths, "Wales") == []


def test_update_builds_a_missing_or_outdated_index(tiny_kb: Path, monkeypatch) -> None:
    paths = pipeline.Paths.for_root(tiny_kb)
    engine = current_store(paths)
    assert search.update_index(engine, paths.index)["added"] == 6
    monkeypatch.setattr(search_stamp, "SCHEMA_VERSION", search_stamp.SCHEMA_VERSION + 1)
    assert not search.index_is_current(paths.index, paths.database)
    assert search.update_index(engine, paths.index)["added"] == 6
    assert search.index_is_current(paths.index, paths.database)
    # The index holds the synonym groups' tokens: new synonyms mean a new index.
    monkeypatch.setattr(search_stamp, "_synonyms_digest", lambda: "other synonyms")
    assert not search.index_is_current(paths.index, paths.database)
    assert search.update_index(engine, paths.index)["added"] == 6


def test_cli_builds_then_refreshes_the_index(tiny_kb: Path) -> None:
    assert not (tiny_kb / "build" / "index").exists()
    assert run_kb("search", "senior", "--root", tiny_kb).exit_code == 0
    stamp = tiny_kb / "build" / "index" / search.STAMP
    built_at = stamp.stat().st_mtime_ns
    assert run_kb("search", "senior", "--root", tiny_kb).exit_code == 0
    assert stamp.stat().st_mtime_ns == built_at  # current: not touched
    add_note(tiny_kb, "recommendations/targets.yaml", "At board level.")
    database = tiny_kb / "build" / "kb.sqlite"
    os.utime(tiny_kb / "recommendations" / "targets.yaml", ns=(built_at + 10**9,) * 2)
    assert (
        "targets · recommendations/targets/" in run_kb("search", "board", "--root", tiny_kb).output
    )
    assert stamp.stat().st_mtime_ns >= database.stat().st_mtime_ns


# --- The command ------------------------------------------------------------------------------


def test_cli_prints_ranked_results(tiny: pipeline.Paths) -> None:
    result = run_kb("search", "representaton", "targets", "--root", tiny.root)
    assert result.exit_code == 0
    assert result.output == (
        '1 result for "representaton targets"\n'
        'did you mean: "representation targets" (included in the results)\n'
        "\n"
        "1. recommendation: Publish representation targets [S0 No evidence found]\n"
        "   Publish **targets** for **representation** at senior levels.\n"
        "   targets · recommendations/targets/\n"
    )
    result = run_kb("search", "blind", "CVs", "--type", "example", "--root", tiny.root)
    assert result.output == (
        '1 result for "blind CVs"\n'
        "also searched: blind recruitment, blind application, name-blind recruitment, "
        "anonymised application, anonymised CV, anonymised recruitment\n"
        "\n"
        "1. example: Anonymised application pilot\n"
        "   Employers removed names from **applications** for a year.\n"
        "   blind-cv-pilot · examples/blind-cv-pilot/\n"
    )


def test_cli_json(tiny: pipeline.Paths) -> None:
    result = run_kb("search", "pilot", "--json", "--type", "evidence", "--root", tiny.root)
    assert result.exit_code == 0
    found = json.loads(result.output)
    [hit] = found.pop("results")
    assert found == {
        "query": "pilot",
        "total": 1,
        "total_estimated": False,
        "did_you_mean": None,
        "also_searched": [],
        "no_recommendation": False,  # --type evidence: recommendations were not looked for
        "nearest_recommendation": None,
    }
    assert hit == {
        "type": "evidence",
        "kind": "supports",
        "id": "krause-2012--anonymise",
        "title": "Krause and Rinne (2012) supports “Anonymise applications”",
        "text": "A pilot found anonymised applications narrowed gaps in callbacks.",
        "score": hit["score"],
        "strength": "S2",
        "url": "recommendations/anonymise/#evidence-krause-2012--anonymise",
        "highlights": ["A **pilot** found anonymised applications narrowed gaps in callbacks."],
        "headline": "",
        # How to quote and cite it (kb.references.record_citations): the report's words at its
        # section; no permanent address, since the fixture has no site_url.
        "quote": "Anonymised applications reduced callback gaps in a pilot (Krause et al., 2012).",
        "citation": "Krause, A. and Rinne, U. (2012). Pilot Project: Anonymized Application "
        "procedure. IZA. https://doi.org/10.1234/IZA.44",
        "section": "Recruitment",
        "page": None,
        "permalink": None,
    }
    assert hit["score"] > 0


def test_cli_names_the_nearest_recommendation_when_none_matches(tiny: pipeline.Paths) -> None:
    result = run_kb("search", "callbacks", "--root", tiny.root)
    assert result.output == (
        '1 result for "callbacks"\n'
        "no recommendation matches; the nearest, which the best results bear on:\n"
        "   Anonymise applications [S1 Expert opinion]\n"
        "   anonymise · recommendations/anonymise/ · via krause-2012--anonymise\n"
        "\n"
        "1. evidence: Krause and Rinne (2012) supports “Anonymise applications” [S2 Very limited]\n"
        "   A pilot found anonymised applications narrowed gaps in **callbacks**.\n"
        "   krause-2012--anonymise · recommendations/anonymise/#evidence-krause-2012--anonymise\n"
    )
    found = json.loads(run_kb("search", "pilot", "--json", "--root", tiny.root).output)
    assert found["no_recommendation"] is True
    assert found["nearest_recommendation"] == {
        "id": "anonymise",
        "title": "Anonymise applications",
        "url": "recommendations/anonymise/",
        "strength": "S1",
        "matches": False,
        "via": ["blind-cv-pilot", "krause-2012--anonymise", "krause-2012"],
    }
    # A key figure bears on no recommendation.
    assert run_kb("search", "Wales", "--root", tiny.root).output.splitlines()[1] == (
        "no recommendation matches, and none of the results bears on one"
    )
    # Not when recommendations were not asked for, nor when there is nothing at all.
    for args in (["pilot", "--type", "study"], ["type:study", "pilot"], ["zebra"]):
        output = run_kb("search", *args, "--root", tiny.root).output
        assert "recommendation matches" not in output, args
    # Filters apply to the nearest recommendation too.
    found = search.search(tiny.index, "callbacks", min_strength="S2")
    assert found.no_recommendation and found.nearest_recommendation is None


def test_cli_no_results_and_limits(tiny: pipeline.Paths) -> None:
    assert run_kb("search", "zebra", "--root", tiny.root).output == 'no results for "zebra"\n'
    result = run_kb("search", "applications", "--limit", "1", "--root", tiny.root)
    assert result.output.splitlines()[0] == '1 of 4 results for "applications"'
    bad = run_kb("search", "x", "--min-strength", "S9", "--root", tiny.root)
    assert bad.exit_code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pay", "--theme", "nowhere"], "no theme has ID 'nowhere' (--theme nowhere)"),
        (
            ["pay", "--theme", "Recruitmnt"],
            "no theme has ID 'recruitmnt' (--theme recruitmnt); did you mean 'recruitment'?",
        ),
        (["pay theme:nowhere"], "no theme has ID 'nowhere' (theme:nowhere)"),
        (['pay theme:"nowhere"'], "no theme has ID 'nowhere' (theme:nowhere)"),
        (["id:krause-2013"], "no record has ID 'krause-2013' (id:krause-2013); did you mean "
         "'krause-2012'?"),
        (["pay source:nowhere"], "no source has ID 'nowhere' (source:nowhere)"),
        (["recommendation:krause-2012"], "no recommendation has ID 'krause-2012' "
         "(recommendation:krause-2012)"),
    ],
)  # fmt: skip
def test_a_filter_on_an_id_no_record_has_is_an_error(
    tiny: pipeline.Paths, args: list[str], message: str
) -> None:
    result = run_kb("search", *args, "--root", tiny.root)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message}\n")


def test_filters_on_ids_records_have_are_searched(tiny: pipeline.Paths) -> None:
    for args in (
        ["applications", "--theme", "RECRUITMENT"],
        ["applications theme:recruitment"],
        ["id:krause-2012--anonymise"],
        ["id:krause*"],  # a wildcard is not one ID
        ["applications source:tiny-report"],
        ["recommendation:anonymise"],
    ):
        result = run_kb("search", *args, "--root", tiny.root)
        assert (result.exit_code, result.stderr) == (0, ""), args
        assert "result" in result.stdout.splitlines()[0] and "no results" not in result.stdout


# --- Relevance on the real knowledge base -----------------------------------------------------


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("real")
    paths = pipeline.Paths(REPOSITORY.resolve(), folder / "kb.sqlite", folder / "index")
    try:
        build_db(paths)
    except RecordsInvalid as invalid:
        pytest.skip(f"the knowledge base in the repository is invalid now ({invalid})")
    search.build_index(store.open_store(paths.database), paths.index)
    return paths.index


def exhaustive(index_dir: Path, text: str) -> tuple[list[tuple[float, int]], int]:
    """Every matching document scored, with no pruning: what ranking.rank must agree with."""
    with index.open_dir(index_dir).searcher(weighting=search.query._PriorBM25F()) as searcher:
        parsed, _ = search.query.query_tree(searcher, search.clean_query(text))
        tree = PostingsReader(searcher)
        root = build_tree(tree, parsed)
        scores = ranking.final_scores(tree, root.scores(None, True))
        return ranking.best(scores, 10), len(root.docs(True))


def test_pruned_ranking_agrees_with_scoring_everything(real_index: Path) -> None:
    for case in load_cases() + load_cases(held_out=True):
        with index.open_dir(real_index).searcher() as searcher:
            corrected = search.spelling.correct(search.clean_query(case["query"]), searcher)
        top, total = exhaustive(real_index, corrected)
        found = search.search(real_index, case["query"])
        assert [result.score for result in found.results] == [round(s, 4) for s, _ in top]
        assert found.total == total, case["query"]
        assert not found.total_estimated


def test_a_phrase_with_too_many_documents_to_check_is_counted_roughly(
    tiny: pipeline.Paths, monkeypatch
) -> None:
    text = '"anonymised applications" OR targets'
    exact = search.search(tiny.index, text)
    assert (exact.total, exact.total_estimated) == (5, False)
    monkeypatch.setattr(ranking, "PHRASE_COUNT_BUDGET", 0)  # check a sample of every phrase
    rough = search.search(tiny.index, text)
    assert (rough.total, rough.total_estimated) == (5, True)
    assert rough.results == exact.results  # the ranking itself is always exact
    result = run_kb("search", text, "--limit", "1", "--root", tiny.root)
    assert result.output.splitlines()[0] == f'1 of about 5 results for "{text}"'


def test_relevance_on_the_real_knowledge_base(real_index: Path, capsys) -> None:
    cases, held_out = load_cases(), load_cases(held_out=True)
    assert len(cases) >= 40 and len(held_out) >= 10
    with index.open_dir(real_index).searcher() as searcher:
        known = {fields["id"] for fields in searcher.all_stored_fields()}
    expected = {record for case in cases + held_out for record in case["expect"]}
    missing = sorted(expected - known)
    assert not missing, f"relevance.yaml expects records that do not exist: {missing}"

    def ranker(text: str) -> list[str]:
        return [result.id for result in search.search(real_index, text).results]

    # The held-out queries were never tuned on: their figures are reported apart.
    for name, figures in (("", measure(ranker, cases)), ("held-out ", measure(ranker, held_out))):
        with capsys.disabled():
            print(
                f"\nsearch relevance over {figures['queries']} {name}queries: "
                f"recall@5 {figures['recall_at_5']:.3f}, MRR {figures['mrr']:.3f}"
            )
        assert figures["recall_at_5"] >= 0.9, figures["misses"]
        assert figures["mrr"] >= 0.75, figures["misses"]


def test_english_words_are_not_corrected_in_the_real_knowledge_base(real_index: Path) -> None:
    # Both were "corrected" into words the knowledge base holds: "material", "drawing".
    for text in ("maternal", "drafting", "maternal health", "drafting a policy"):
        assert search.search(real_index, text).did_you_mean is None, text
    assert search.search(real_index, "microagressions").did_you_mean == "microaggressions"


def test_the_rare_word_that_carries_the_question_outweighs_common_ones(real_index: Path) -> None:
    # "support" is in 54 records; "interpreters" finds the 3 on translation (a synonym group).
    # Recommendations on senior management or wellbeing "support" ranked second to fifth.
    found = search.search(real_index, "interpreters language support", limit=5)
    translation = {"hsc-action-5", "netto-2010--hsc-public-health-2"}
    translation |= {"toleikyte-2018--hsc-public-health-2"}
    assert {result.id for result in found.results[:3]} == translation


def test_a_query_no_recommendation_answers_says_so(real_index: Path) -> None:
    found = search.search(real_index, "zebra crossing")
    assert found.results and found.no_recommendation
    nearest = found.nearest_recommendation
    assert nearest is not None and (nearest.id, nearest.matches) == ("hsc-workplace-5", False)
    assert nearest.via[0] == "cross-strand-staff-network"  # the best-ranked result bearing on one
    # A recommendation that matches but is ranked below the results shown.
    found = search.search(real_index, "Freedom to Speak Up Guardians", limit=1)
    assert [result.type for result in found.results] == ["example"]
    nearest = found.nearest_recommendation
    assert nearest is not None and (nearest.id, nearest.matches) == ("hsc-workplace-5", True)
    found = search.search(real_index, "blind recruitment")
    assert not found.no_recommendation and found.nearest_recommendation is None
