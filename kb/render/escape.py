"""The one escaping mechanism for record text on the site: every record field is untrusted.

Record text reaches pages through Markdown, so escaping HTML alone is not enough: Markdown,
Material and pymdownx give meaning to ``*``, ``[x](…)``, ``{: …}``, ``:icon:``, ``--8<--`` and
more. ``inert`` therefore writes every ASCII punctuation character as a numeric character
reference (``<`` → ``&#60;``). What is left is letters, digits, spaces and references, which no
Markdown extension acts on and which every browser shows as the original characters, in text
and in attribute values alike. Control characters (Python-Markdown's placeholders among them)
are dropped and runs of whitespace collapse to one space.

``safe_url`` lets through only http(s) and mailto addresses; ``front_matter`` writes page
metadata as JSON that YAML reads back unchanged. JSON-LD reaches the page only through the
theme override's ``tojson``, which escapes ``<``, ``>``, ``&`` and ``'``.
"""

import json
import re
import string
from typing import Any

from markupsafe import Markup

_REFERENCES = {character: f"&#{ord(character)};" for character in string.punctuation}
# One pass of a regular expression: several times quicker than str.translate with a mapping
# to longer strings, which CPython does character by character.
_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")


def _references(text: str) -> str:
    """Every ASCII punctuation character of ``text`` as a numeric character reference."""
    return _PUNCTUATION.sub(lambda match: _REFERENCES[match.group()], text)


# Control characters (C0 but tab and line ends, DEL, C1), surrogates and non-characters: the
# records refuse them too (``kb.records.vocabularies.CONTROL_CHARACTERS``).
_DROPPED = dict.fromkeys(
    [
        *range(0x00, 0x09),
        0x0B,
        0x0C,
        *range(0x0E, 0x20),
        *range(0x7F, 0xA0),
        *range(0xD800, 0xE000),
        0xFFFE,
        0xFFFF,
    ],
    None,
)
# The same characters, found in one pass of a regular expression: ``str.translate`` with
# ``_DROPPED`` looks at text character by character, though it rarely holds any of them.
_ANY_DROPPED = re.compile("[" + "".join(map(re.escape, map(chr, sorted(_DROPPED)))) + "]")
_SPACES = re.compile(r"[ \t\r\n]+")
_SAFE_URL = re.compile(r"(?:https?://[^\s/?#@]+(?:[/?#]\S*)?|mailto:[^\s:/]+@\S+)", re.IGNORECASE)
# Characters PyYAML refuses or reads as line breaks even inside a quoted string.
_NOT_YAML = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def inert(value: Any) -> Markup:
    """Record text as inert HTML/Markdown: shown exactly as written, never interpreted.

    >>> str(inert("<b>*x*</b>"))
    '&#60;b&#62;&#42;x&#42;&#60;&#47;b&#62;'
    """
    if value is None:
        return Markup("")
    if isinstance(value, Markup):
        return value
    text = str(value)
    if _ANY_DROPPED.search(text):
        text = text.translate(_DROPPED)
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:  # else nothing to collapse
        text = _SPACES.sub(" ", text)
    return Markup(_references(text))


def inert_lines(value: Any) -> Markup:
    """Like ``inert`` but keeping line breaks and spaces, for preformatted blocks (citations).

    Only for raw HTML ``<pre>`` blocks, where Markdown does not look at line starts.
    """
    text = str(value).replace("\t", " ")
    if _ANY_DROPPED.search(text):
        text = text.translate(_DROPPED)
    lines = text.splitlines()
    return Markup("\n".join(_references(line.rstrip()) for line in lines))


def is_safe_url(value: Any) -> bool:
    """True for an http(s) or mailto address with no spaces or control characters.

    ``javascript:``, ``data:``, relative and protocol-relative addresses are refused.
    """
    return (
        isinstance(value, str)
        and value == value.translate(_DROPPED)
        and _SAFE_URL.fullmatch(value) is not None
    )


def safe_url(value: Any) -> Markup | None:
    """An http(s) or mailto address, escaped for an attribute value; None for anything else."""
    return inert(value) if is_safe_url(value) else None


def front_matter(meta: dict[str, Any]) -> str:
    """Page metadata as a YAML front-matter block written on one line as JSON.

    One line, so no value can end the block early; characters YAML refuses are escaped.
    """
    text = json.dumps(meta, ensure_ascii=False, separators=(",", ":"))
    text = _NOT_YAML.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return f"---\n{text}\n---\n"
