"""Names as the record format writes them: 'Family, I.' for people, organisations whole.

BibTeX and CSL-JSON say which part of a name is the family name; RIS and Web of Science write
'Family, Given' with a comma, and an organisation (``Public Health Wales``) without one, as
Zotero, EndNote and Mendeley export them. Two other RIS dialects leave the comma out of
people's names, and no library tells them from organisations, so they are recognised here:

- **Surname Initials.** (Embase): ``Fanning E.``, ``Smith J.A.``: the last word is one to three
  capital letters ending in a full stop.
- **Given Family** (some publishers' exports, read so by JabRef and citation-js): ``Catarina
  Barata``. Read so only when every author of the record is written this way, there are at
  least two, and each is two to four capitalised words (initials and particles such as ``van``
  allowed) with no word that names an organisation (``Health``, ``Council``, ``NHS``…). The
  parts are then split by BibTeX's rules (bibtexparser's ``parse_single_name_into_parts``), so
  ``Ludwig van Beethoven`` is ``van Beethoven, L.``. A lone ``Catarina Barata`` stays whole,
  as Zotero keeps it: one name cannot say whether it is a person's.

Web of Science writes initials run together (``Parkes-Loach, PS``); two or three capitals
after the comma are read as initials (``Parkes-Loach, P. S.``).
"""

import re

from bibtexparser.middlewares.names import parse_single_name_into_parts

# Words that name an organisation, not a person (case folded).
ORGANISATION_WORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better than quoted strings
        "academy agency alliance associates association authority bank board britain bureau "
        "care centre center charity college commission committee company congress consortium "
        "corporation council department division england europe european federation forum "
        "foundation fund government group health hospital inc institute institution "
        "international ireland kingdom league library limited ltd ministry museum national "
        "nations network observatory office organisation organization panel parliament "
        "partnership press programme program project research scotland school service "
        "services society statistics survey taskforce team trust unit united university "
        "wales welsh world"
    ).split()
)
# Lower-case name particles allowed in a 'Given Family' name.
PARTICLES = frozenset(
    "al bin da das de del della den der di dos du el ibn la le ten ter van von y".split()  # noqa: SIM905
)

_RUN_TOGETHER_INITIALS = re.compile(r"[A-Z]{2,3}")


def initials(given: str) -> str:
    """'Naomi Jane' → 'N. J.'; hyphenated names keep their hyphen: 'Jean-Paul' → 'J.-P.'."""
    words = []
    for word in given.replace(".", ". ").split():
        parts = [part for part in word.strip(".").split("-") if part]
        if parts:
            words.append("-".join(f"{part[0].upper()}." for part in parts))
    return " ".join(words)


def person(family: str, given: str = "", suffix: str = "") -> str:
    """A person's name in the record format: 'Family, I.' (with ', Jr.' if there is one)."""
    name = " ".join(family.split())
    letters = initials(given)
    return ", ".join(part for part in (name, letters, suffix.strip()) if part)


def comma_name(name: str) -> str:
    """'Family, Given' → 'Family, G.'; a name with no comma is an organisation's, kept whole."""
    parts = [part.strip() for part in name.split(",")]
    if len(parts) == 1:
        return " ".join(name.split())
    family, given = parts[0], parts[1]
    if _RUN_TOGETHER_INITIALS.fullmatch(given) and not family.isupper():
        given = " ".join(given)  # Web of Science: 'PS' is P. S.
    return person(family, given, ", ".join(parts[2:]))


def ris_names(names: list[str]) -> list[str]:
    """The authors of one RIS record in the record format, each dialect read as above."""
    names = [" ".join(name.split()) for name in names if name.strip()]
    given_family = len(names) >= 2 and all(_looks_given_family(name) for name in names)
    return [_ris_name(name, given_family) for name in names]


def _ris_name(name: str, given_family: bool) -> str:
    if "," in name:
        return comma_name(name)
    words = name.split()
    last = words[-1]
    letters = last.replace(".", "")
    if (
        len(words) >= 2
        and last.endswith(".")
        and 1 <= len(letters) <= 3
        and letters.isalpha()
        and letters.isupper()
        and not _names_organisation(words[:-1])
    ):
        return person(" ".join(words[:-1]), " ".join(letters))  # Embase: 'Fanning E.'
    if given_family:
        parts = parse_single_name_into_parts(name, strict=False)
        return person(" ".join(parts.von + parts.last), " ".join(parts.first), " ".join(parts.jr))
    return name


def _names_organisation(words: list[str]) -> bool:
    return any(
        word.strip(".'’()&").casefold() in ORGANISATION_WORDS
        or (len(word) > 1 and word.isupper() and not word.endswith("."))  # NHS, UK
        or word in ("&", "and", "for", "of", "the", "in", "on")
        for word in words
    )


def _looks_given_family(name: str) -> bool:
    """Two to four words, each capitalised, an initial or a particle, naming no organisation."""
    words = name.split()
    if not 2 <= len(words) <= 4 or "," in name or _names_organisation(words):
        return False
    for position, word in enumerate(words):
        bare = word.replace("-", "").replace("'", "").replace("’", "").rstrip(".")
        if not bare.isalpha():
            return False
        initial = len(bare) == 1 and bare.isupper()
        capitalised = word[0].isupper() and any(char.islower() for char in word)
        particle = word in PARTICLES and 0 < position < len(words) - 1
        if not (initial or capitalised or particle):
            return False
    return len(words[-1].rstrip(".")) != 1  # a family name is more than an initial
