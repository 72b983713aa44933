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

from kb.load import parse_yaml

SYNONYMS_FILE = Path(__file__).parent.parent / "data" / "synonyms.yaml"

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
            text = token.text
            for pattern, replacement in _US_SPELLING:
                text = pattern.sub(replacement, text)
            for us, uk in _US_STEMS.items():
                if text.startswith(us) and not text.startswith(uk):
                    text = uk + text[len(us) :]
            token.text = text
            yield token


def _filter_chain(stem: bool) -> Any:
    chain = RegexTokenizer(_WORD) | AcronymPlurals() | LowercaseFilter() | CharsetFilter(accent_map)
    if not stem:
        return chain | JoinedForms()
    return chain | StopFilter() | JoinedForms() | UkSpelling() | StemFilter(lang="en")


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

    def __init__(self, stem: bool = True) -> None:
        self.stem = stem
        self.chain = _filter_chain(stem)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WordCache) and other.stem == self.stem

    def __hash__(self) -> int:
        return hash((WordCache, self.stem))

    def __getstate__(self) -> dict[str, Any]:
        return {"stem": self.stem}  # the index's schema stores the analyser

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["stem"])

    def has_morph(self) -> bool:
        return self.stem

    def _word(self, word: str, mode: str, removestops: bool) -> tuple[int, tuple[Any, ...]]:
        key = (self.stem, word, mode, removestops)
        found = _WORD_CACHE.get(key)
        if found is None:
            tokens = tuple(
                (token.text, token.pos, token.startchar, token.endchar, token.stopped)
                for token in self.chain(
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
            return self.chain(value, **options)
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
            if not stop:
                kept = True
                position += taken
                shift += taken - 1


def text_analyzer(stem: bool = True) -> Any:
    """English analyser: lower case, accents folded, stop words, joined forms, UK spelling, stems.

    Joined forms come after the stop filter, which renumbers positions, so that "antiracist"
    keeps the position of "racist" and phrases match whichever spelling was used. Without
    ``stem``, words are kept as written: the vocabulary the spelling corrector suggests from.
    """
    return WordCache(stem)


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
        context=TEXT(analyzer=text),
        spell=TEXT(analyzer=text_analyzer(stem=False), phrase=False),
        theme=_value_list(),
        strength=_value_list(stored=True),
        direction=_value_list(),
        study_type=_value_list(),
        year=NUMERIC(int, stored=True),
        actor=_value_list(),
        source=_value_list(),
        recommendation=_value_list(stored=True),
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


_ANALYZER = text_analyzer()
_SPELLING_ANALYZER = text_analyzer(stem=False)

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
                matches.append(SynonymMatch(run[sequence[position][0]].start, tuple(alternatives)))
                position += size
                break
            else:
                position += 1
    return matches
