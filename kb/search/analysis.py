"""Text analysis for search: the tokeniser and filters, the index schema, and domain synonyms.

Index and query text go through one analyser (``text_analyzer``), so "anti-racist", "GPs" and
"organize" find "antiracist", "GP" and "organise". Synonym groups are read from
``kb/data/synonyms.yaml`` and matched, by their stems, among the plain words of a query.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    StripFilter,
    SubstitutionFilter,
    Token,
)
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

from kb.records.load import parse_yaml

SYNONYMS_FILE = Path(__file__).parent.parent / "data" / "synonyms.yaml"
# Score multipliers by kind of document: policy writers look for recommendations first.
PRIOR = {
    "recommendation": 1.3,
    "key-message": 1.1,
    "recurring": 1.0,
    "government-action": 1.0,
    "example": 1.0,
    "figure": 0.9,
    "evidence": 0.7,
    "study": 0.7,
}

# --- Analysis ---------------------------------------------------------------------------------

_WORD = r"\w+(?:[-‐‑'’]\w+)*"
_POSSESSIVE = re.compile(r"['’][sS]$")
_ACRONYM_PLURAL = re.compile(r"^[A-Z]{2,}s$")
_US_SPELLING = (
    (re.compile(r"(?<=\w\w\w)iz(e|es|ed|er|ers|ing|ation|ations)$"), r"is\1"),
    (re.compile(r"(?<=\w\w)yz(e|es|ed|er|ers|ing)$"), r"ys\1"),
)
_US_STEMS = {"behavior": "behaviour", "color": "colour", "favor": "favour", "honor": "honour"}
_US_STEMS |= {
    "labor": "labour",
    "neighbor": "neighbour",
    "center": "centre",
    "program": "programme",
}


class JoinedForms(Filter):
    """Index "anti-racist" as anti, racist and antiracist; read it in a query as antiracist.

    So hyphenated, spaced and joined spellings of one word find each other. A trailing
    possessive ('s) is dropped.
    """

    def __call__(self, tokens: Iterable[Any]) -> Iterator[Any]:
        shift = 0
        for token in tokens:
            text = _POSSESSIVE.sub("", token.text)
            parts = [(m.start(), m.group()) for m in re.finditer(r"[^-‐‑'’]+", text)]
            if token.positions:
                token.pos += shift
            if len(parts) < 2:
                token.text = text
                yield token
                continue
            joined = "".join(part for _, part in parts)
            if token.mode == "query":
                token.text = joined
                yield token
                continue
            start = token.pos if token.positions else 0
            first = token.startchar if token.chars else 0
            for number, (offset, part) in enumerate(parts):
                token.text = part
                if token.positions:
                    token.pos = start + number
                if token.chars:
                    token.startchar, token.endchar = first + offset, first + offset + len(part)
                yield token
            token.text = joined
            if token.chars:
                token.startchar = first
            yield token
            shift += len(parts) - 1


class AcronymPlurals(Filter):
    """Read "GPs" and "CVs" as GP and CV (the stemmer leaves short words alone)."""

    def __call__(self, tokens: Iterable[Any]) -> Iterator[Any]:
        for token in tokens:
            if _ACRONYM_PLURAL.fullmatch(token.text):
                token.text = token.text[:-1]
            yield token


class UkSpelling(Filter):
    """Fold US spellings into UK ones (-ize → -ise, -yze → -yse, behavior → behaviour...)."""

    is_morph = True

    def __call__(self, tokens: Iterable[Any]) -> Iterator[Any]:
        for token in tokens:
            token.text = uk_spelling(token.text)
            yield token


def uk_spelling(word: str) -> str:
    """The UK spelling of a lower-case US word ("anonymized" → "anonymised"), or the word."""
    for pattern, replacement in _US_SPELLING:
        word = pattern.sub(replacement, word)
    for us, uk in _US_STEMS.items():
        if word.startswith(us) and not word.startswith(uk):
            word = uk + word[len(us) :]
    return word


def _filter_chain(stem: bool, synonyms: bool = True) -> Any:
    chain = RegexTokenizer(_WORD) | AcronymPlurals() | LowercaseFilter() | CharsetFilter(accent_map)
    if not stem:
        return chain | JoinedForms()
    stemmed = chain | StopFilter() | JoinedForms() | UkSpelling() | StemFilter(lang="en")
    return stemmed | SynonymTokens() if synonyms else stemmed


# What each distinct word becomes, per analyser: (texts, relative positions, character
# offsets, stopped), and how many positions it takes. Shared by the process, bounded.
_WORD_CACHE: dict[tuple[bool, str, str, bool], tuple[int, tuple[tuple[Any, ...], ...]]] = {}
_WORD_CACHE_SIZE = 500_000
_PLAIN_OPTIONS = {"positions", "chars", "mode", "removestops", "boosts"}
_WORD_PATTERN = re.compile(_WORD)


class WordCache(Analyzer):
    """The filter chain of ``text_analyzer``, run once per distinct word and then remembered.

    Every filter in the chain looks at one word at a time, so a word always yields the same
    tokens; only positions depend on what came before (stop words and joined forms shift
    them), and that is replayed here. Indexing 10,000 studies meets a few hundred thousand
    words but only tens of thousands of distinct ones. Calls with other options (start
    positions, originals, no tokenising) go through the chain itself.
    """

    def __init__(self, stem: bool = True, synonyms: bool = True) -> None:
        self.stem = stem
        self.synonyms = stem and synonyms
        self.chain = _filter_chain(stem, self.synonyms)
        self.words = _filter_chain(stem, synonyms=False)  # synonyms span words: added here

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WordCache) and (other.stem, other.synonyms) == (
            self.stem,
            self.synonyms,
        )

    def __hash__(self) -> int:
        return hash((WordCache, self.stem, self.synonyms))

    def __getstate__(self) -> dict[str, Any]:
        return {"stem": self.stem, "synonyms": self.synonyms}  # the schema stores the analyser

    def __setstate__(self, state: dict[str, Any]) -> None:
        WordCache.__init__(self, state["stem"], state.get("synonyms", True))

    def has_morph(self) -> bool:
        return self.stem

    def _word(self, word: str, mode: str, removestops: bool) -> tuple[int, tuple[Any, ...]]:
        key = (self.stem, word, mode, removestops)
        found = _WORD_CACHE.get(key)
        if found is None:
            tokens = tuple(
                (token.text, token.pos, token.startchar, token.endchar, token.stopped)
                for token in self.words(
                    word, positions=True, chars=True, mode=mode, removestops=removestops
                )
            )
            taken = max((token[1] for token in tokens), default=-1) + 1
            if len(_WORD_CACHE) >= _WORD_CACHE_SIZE:
                _WORD_CACHE.clear()
            found = _WORD_CACHE[key] = (taken, tokens)
        return found

    def __call__(self, value: str, **options: Any) -> Iterator[Any]:
        if not options.keys() <= _PLAIN_OPTIONS:
            tokens: Iterator[Any] = self.chain(value, **options)
            return tokens
        return self._tokens(value, **options)

    def _tokens(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        mode: str = "",
        removestops: bool = True,
        **options: Any,
    ) -> Iterator[Any]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **options)
        position = 0  # of the next kept word: stop words after the first kept one take none
        shift = 0  # positions added by joined forms so far
        kept = False
        synonyms = _SynonymSpotter() if self.synonyms and mode == "index" and positions else None
        watched = _synonym_stems() if synonyms is not None else frozenset()
        for number, match in enumerate(_WORD_PATTERN.finditer(value)):
            taken, outputs = self._word(match.group(), mode, removestops)
            stop = not outputs or outputs[0][4]
            if stop and not kept:  # stop words before the first kept word still count
                position += 1
            start = match.start()
            for text, offset, first, last, stopped in outputs:
                token.text = text
                token.boost = 1.0
                token.stopped = stopped
                if positions:  # a stop word kept (removestops=False) keeps its own position
                    token.pos = number + shift if stop else position + offset
                if chars:
                    token.startchar, token.endchar = start + first, start + last
                yield token
                if text in watched and not stopped:
                    yield from synonyms.tokens(token)  # type: ignore[union-attr]
            if not stop:
                kept = True
                position += taken
                shift += taken - 1


def text_analyzer(stem: bool = True, synonyms: bool = True) -> Any:
    """English analyser: lower case, accents folded, stop words, joined forms, UK spelling, stems.

    Joined forms come after the stop filter, which renumbers positions, so that "antiracist"
    keeps the position of "racist" and phrases match whichever spelling was used. Without
    ``stem``, words are kept as written: the vocabulary the spelling corrector suggests from.
    With ``synonyms`` (and stems), indexing adds synonym groups' tokens (``SynonymTokens``).
    """
    return WordCache(stem, synonyms)


def _value_list(stored: bool = False) -> KEYWORD:
    """A field of whole values (one per line), matched case-insensitively: theme, actor..."""
    analyzer = RegexTokenizer(r"[^\n]+") | StripFilter() | LowercaseFilter()
    return KEYWORD(analyzer=analyzer, stored=stored)


def make_schema() -> Schema:
    """The index's fields: a few stored for printing, text for matching, keywords to filter."""
    text = text_analyzer()
    return Schema(
        key=ID(unique=True, stored=True),
        id=ID(stored=True),
        type=ID(stored=True),
        kind=ID(stored=True),
        label=STORED(),
        ref=TEXT(
            analyzer=RegexTokenizer(r"\S+") | LowercaseFilter() | SubstitutionFilter("[-‐‑]", "")
        ),
        title=TEXT(analyzer=text),
        text=TEXT(analyzer=text, stored=True),
        context=TEXT(analyzer=text_analyzer(synonyms=False)),  # synonyms: titles and texts
        spell=TEXT(analyzer=text_analyzer(stem=False), phrase=False),
        theme=_value_list(),
        strength=_value_list(stored=True),
        headline=STORED(),  # a recommendation's headline level, explained where it differs
        direction=_value_list(),
        study_type=_value_list(),
        year=NUMERIC(int, stored=True),
        actor=_value_list(),
        source=_value_list(),
        recommendation=_value_list(stored=True),
        # The recommendations a study, evidence link or example bears on, one ID a line: for
        # the nearest recommendation to a query that no recommendation answers (query.py).
        bears_on=STORED(),
        digest=STORED(),
        prior=NUMERIC(int, sortable=True),  # PRIOR in per cent
    )


# --- Synonyms ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynonymGroup:
    """Terms that mean the same thing to a policy writer, as written in synonyms.yaml."""

    terms: tuple[str, ...]


_TERM = re.compile(r"^[\w ,.'’/-]+$")


def load_synonyms(path: Path = SYNONYMS_FILE) -> list[SynonymGroup]:
    """Read the reviewed synonym groups; a malformed file is a bug in the repository."""
    data, _ = parse_yaml(path.read_text(encoding="utf-8"))
    groups = []
    for number, entry in enumerate(data or []):
        terms = entry.get("terms") if isinstance(entry, dict) else None
        if not isinstance(terms, list) or len(terms) < 2:
            raise ValueError(f"{path}: group {number + 1} needs a list of two or more terms")
        for term in terms:
            if not isinstance(term, str) or not _TERM.fullmatch(term):
                raise ValueError(f"{path}: group {number + 1}: {term!r} is not a plain term")
        groups.append(SynonymGroup(tuple(terms)))
    return groups


def _stems(text: str) -> tuple[str, ...]:
    return tuple(token.text for token in _ANALYZER(text, mode="query"))


@cache
def _synonym_phrases() -> dict[tuple[str, ...], SynonymGroup]:
    phrases: dict[tuple[str, ...], SynonymGroup] = {}
    for group in load_synonyms():
        for term in group.terms:
            stems = _stems(term)
            if stems:
                phrases.setdefault(stems, group)
    return phrases


# --- Plain words of a query -------------------------------------------------------------------

_SEGMENT = re.compile(
    r'"[^"]*"(?:~\d+)?'  # a phrase
    r"|\w+:(?:\"[^\"]*\"|[\[{][^\]}]*[\]}]|[^\s()]*)"  # field:value
    r"|[()]"
    r'|[^\s()"]+'
)
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT"}


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    text: str


def _runs(text: str) -> list[list[_Word]]:
    """Runs of plain words (no fields, phrases, operators or wildcards) in the query."""
    runs: list[list[_Word]] = [[]]
    for match in _SEGMENT.finditer(text):
        segment = match.group()
        plain = not (
            segment.startswith('"')
            or segment in _OPERATORS
            or segment in ("(", ")")
            or re.search(r"[:*^~]", segment)
        )
        if plain:
            runs[-1].append(_Word(match.start(), match.end(), segment))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


@dataclass(frozen=True)
class SynonymMatch:
    """A synonym phrase found in a query: where its first word starts, and the other terms."""

    start: int
    alternatives: tuple[str, ...]
    token: str = ""  # the group's token in the index (group_token)


def find_synonyms(text: str) -> list[SynonymMatch]:
    """Synonym phrases among the query's plain words, longest first, each word used once."""
    phrases = _synonym_phrases()
    longest = max((len(stems) for stems in phrases), default=0)
    matches = []
    for run in _runs(text):
        sequence = [(number, stem) for number, word in enumerate(run) for stem in _stems(word.text)]
        position = 0
        while position < len(sequence):
            for size in range(min(longest, len(sequence) - position), 0, -1):
                stems = tuple(stem for _, stem in sequence[position : position + size])
                if stems not in phrases:
                    continue
                seen = {stems}
                alternatives = []
                for term in phrases[stems].terms:
                    if _stems(term) not in seen:
                        seen.add(_stems(term))
                        alternatives.append(term)
                start = run[sequence[position][0]].start
                token = group_token(phrases[stems])
                matches.append(SynonymMatch(start, tuple(alternatives), token))
                position += size
                break
            else:
                position += 1
    return matches


# --- Synonyms at index time -------------------------------------------------------------------

# A multi-word synonym term matches with up to one word between its words, as in a query.
SYNONYM_SLOP = 2


def group_token(group: SynonymGroup) -> str:
    """The term a synonym group is indexed as, e.g. "~bame"; "~" never comes out of a word."""
    return "~" + "_".join(_stems(group.terms[0]))


@cache
def _synonym_endings() -> dict[str, tuple[tuple[tuple[str, ...], str], ...]]:
    """Each synonym term's stems and group token, by the term's last stem."""
    endings: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for stems, group in _synonym_phrases().items():
        endings.setdefault(stems[-1], []).append((stems, group_token(group)))
    return {stem: tuple(terms) for stem, terms in endings.items()}


@cache
def _synonym_stems() -> frozenset[str]:
    """Every stem of every synonym term: the only tokens the spotter needs to see."""
    return frozenset(stem for stems in _synonym_phrases() for stem in stems)


class SynonymTokens(Filter):
    """Add a synonym group's token after each term of the group, when indexing with positions.

    See ``_SynonymSpotter``; queries and highlighting by query terms never see group tokens.
    """

    def __call__(self, tokens: Iterable[Any]) -> Iterator[Any]:
        spotter = None
        for token in tokens:
            yield token
            if token.mode != "index" or not token.positions or token.stopped:
                continue
            if token.text in _synonym_stems():
                spotter = spotter or _SynonymSpotter()
                yield from spotter.tokens(token)


class _SynonymSpotter:
    """Finds synonym terms in a field's stems as they go by, for their group tokens.

    So a document holding "Black, Asian and minority ethnic" is indexed with the group token
    of that group too, and a query for "BAME" looks up one term instead of checking a
    phrase's positions in thousands of documents.
    """

    def __init__(self) -> None:
        self.endings = _synonym_endings()
        self.recent: list[tuple[str, int, int]] = []  # (stem, position, start character)
        self.emitted: set[tuple[str, int]] = set()

    def tokens(self, token: Any) -> Iterator[Any]:
        """After a word's token, the group token of each synonym term that ends with it."""
        stem, position, end = token.text, token.pos, token.endchar if token.chars else 0
        for group, begins in self.spot(stem, position, token.startchar if token.chars else 0):
            token.text, token.pos, token.stopped, token.boost = group, position, False, 1.0
            if token.chars:
                token.startchar, token.endchar = begins, end
            yield token

    def spot(self, stem: str, position: int, start: int) -> list[tuple[str, int]]:
        """Group tokens of the terms ending with this stem, with where each term starts."""
        window = 8 * SYNONYM_SLOP
        recent = self.recent
        if recent and recent[0][1] < position - window:
            self.recent = recent = [entry for entry in recent if entry[1] >= position - window]
        found = []
        for stems, group in self.endings.get(stem, ()):
            begins = self._start(stems, position, start)
            if begins is not None and (group, position) not in self.emitted:
                self.emitted.add((group, position))
                found.append((group, begins))
        recent.append((stem, position, start))
        return found

    def _start(self, stems: tuple[str, ...], position: int, start: int) -> int | None:
        """Where a term whose last stem is at ``position`` starts, or None if it is not there."""
        for stem in reversed(stems[:-1]):
            before = [
                (where, begins)
                for text, where, begins in self.recent
                if text == stem and 1 <= position - where <= SYNONYM_SLOP
            ]
            if not before:
                return None
            position, start = max(before)
        return start


_ANALYZER = text_analyzer()
_SPELLING_ANALYZER = text_analyzer(stem=False)


def spelling_folds() -> dict[str, Any]:
    """The US-to-UK spelling folds, for a reader outside Python (the site's search worker):
    ``endings`` as (regular expression, replacement) pairs and ``stems`` as US → UK."""
    return {
        "endings": [(pattern.pattern, replacement) for pattern, replacement in _US_SPELLING],
        "stems": dict(_US_STEMS),
    }
