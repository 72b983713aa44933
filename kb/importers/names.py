"""Names as the record format writes them: 'Family, I.' for people, organisations whole."""


def initials(given: str) -> str:
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
    return person(parts[0], parts[1], ", ".join(parts[2:]))
