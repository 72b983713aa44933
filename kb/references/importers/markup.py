"""Markup in exported text read as plain Unicode: LaTeX (BibTeX) and CSL-JSON rich text.

LaTeX is read with pylatexenc's ``LatexNodes2Text``, the converter bibtexparser's own
``LatexDecodingMiddleware`` uses, given here what it lacks for bibliographies:

- **Macros reference managers write** that pylatexenc does not know, and so dropped: the logos
  (``\\TeX``, ``\\LaTeX``, ``\\BibTeX``), biblatex's ``\\hyphen``, ``\\mkbibquote``,
  ``\\enquote``, ``\\noopsort`` (a sorting trick, which prints nothing), ``\\texttt`` and
  ``\\mbox``. Any other macro pylatexenc does not know is read as its name (``\\METAFONT`` →
  METAFONT) rather than dropped, so no word vanishes from a title.
- **Sub- and superscripts** in math (``DNA$_{\\textrm{2}}$``, ``$\\Sigma^{0}$``) and
  ``\\textsubscript``/``\\textsuperscript``: pylatexenc writes ``DNA_2`` and ``Σ^0``; they
  become DNA₂ and Σ⁰, from Unicode's own sub- and superscript characters (each character's
  ``<sub>``/``<super>`` decomposition). A script with a character Unicode has no such form
  for is written plainly (``4$^{\\textrm{ème}}$`` → 4ème).

CSL-JSON titles may hold the rich-text tags citeproc-js reads (``<i>``, ``<b>``, ``<sc>``,
``<sup>``, ``<sub>``, ``<span class="nocase">``, ``<span style="font-variant:small-caps;">``):
formatting, not text. Those tags are removed, ``<sup>``/``<sub>`` made Unicode as above; any
other ``<`` is left as it is, being text.
"""

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.macrospec import LatexContextDb, MacroSpec

from kb.references.importers.fields import MAX_NESTING

# --- Sub- and superscripts -------------------------------------------------------------------


@functools.cache
def _script_characters(kind: str) -> dict[str, str]:
    """Each character that has a ``kind`` (``<super>`` or ``<sub>``) form, mapped to it."""
    found: dict[str, str] = {}
    for code in range(0xA0, 0xAC00):
        if code in (0xAA, 0xBA):  # ª and º are ordinal indicators, not superscripts
            continue
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) == 2 and parts[0] == kind:
            found.setdefault(chr(int(parts[1], 16)), chr(code))
    if "\u2212" in found:  # a hyphen in a script is a minus sign
        found.setdefault("-", found["\u2212"])
    return found


def scripted(text: str, kind: str) -> str:
    """``text`` as superscript (``kind`` ``^``) or subscript (``_``) characters; plainly when
    Unicode has no such form for one of them."""
    characters = _script_characters("<super>" if kind == "^" else "<sub>")
    bare = "".join(text.split())
    if bare and all(char in characters for char in bare):
        return "".join(characters[char] for char in bare)
    return text


# --- LaTeX -----------------------------------------------------------------------------------

# What opens or closes a level of LaTeX: braces, brackets, environments, \[ \] and \( \) math;
# other escapes (\{, \\…) are read as one token so that they open nothing.
_LATEX_TOKEN = re.compile(r"\\(?:begin|end)(?![A-Za-z])|\\.|[{}\[\]]", re.DOTALL)
_LATEX_OPENS = {"{", "[", "\\begin", "\\[", "\\("}
_LATEX_CLOSES = {"}", "]", "\\end", "\\]", "\\)"}


def latex_nesting(value: str) -> int:
    """How deep braces, brackets and environments nest in LaTeX text."""
    depth = deepest = 0
    for token in _LATEX_TOKEN.findall(value):
        if token in _LATEX_OPENS:
            depth += 1
            deepest = max(deepest, depth)
        elif token in _LATEX_CLOSES:
            depth = max(depth - 1, 0)
    return deepest


def _script_macro(kind: str) -> Callable[[latexwalker.LatexNode, LatexNodes2Text], str]:
    def replace(node: latexwalker.LatexNode, l2tobj: LatexNodes2Text) -> str:  # a callback
        arguments = node.nodeargd.argnlist if node.nodeargd else []
        text = "".join(l2tobj.nodelist_to_text([argument]) for argument in arguments if argument)
        return scripted(text, kind)

    return replace


# Macro → (arguments as pylatexenc's parser spells them, text: a %-template or a callable).
_MACROS = {
    "TeX": ("", "TeX"),
    "LaTeX": ("", "LaTeX"),
    "LaTeXe": ("", "LaTeX2ε"),
    "BibTeX": ("", "BibTeX"),
    "hyphen": ("", "-"),
    "slash": ("", "/"),
    "xspace": ("", ""),
    "protect": ("", ""),
    "noopsort": ("{", ""),
    "mkbibquote": ("{", "“%s”"),
    "enquote": ("*{", "“%(2)s”"),
    "mkbibemph": ("{", "%s"),
    "mkbibitalic": ("{", "%s"),
    "mkbibbold": ("{", "%s"),
    "texttt": ("{", "%s"),
    "textnormal": ("{", "%s"),
    "mbox": ("{", "%s"),
    "hbox": ("{", "%s"),
    "url": ("{", "%s"),
    "nolinkurl": ("{", "%s"),
    "href": ("{{", "%(2)s"),
    "textsuperscript": ("{", _script_macro("^")),
    "textsubscript": ("{", _script_macro("_")),
}


def _walker_context() -> LatexContextDb:
    context = latexwalker.get_default_latex_context_db()
    context.add_context_category(
        "kb-bibliography",
        prepend=True,
        macros=[MacroSpec(name, arguments) for name, (arguments, _) in _MACROS.items()],
    )
    return context


def _text_context() -> LatexContextDb:
    context = get_default_latex_context_db()
    context.add_context_category(
        "kb-bibliography",
        prepend=True,
        macros=[MacroTextSpec(name, simplify_repl=text) for name, (_, text) in _MACROS.items()],
    )
    return context


class LatexToText(LatexNodes2Text):
    """pylatexenc's converter with the macros above, Unicode sub- and superscripts in math,
    and unknown macros read as their names."""

    def __init__(self) -> None:
        super().__init__(latex_context=_text_context(), math_mode="text")
        self._walker_context = _walker_context()

    def latex_to_text(self, latex: str, **parse_flags: Any) -> str:
        parse_flags.setdefault("latex_context", self._walker_context)
        text: str = super().latex_to_text(latex, **parse_flags)
        return text

    def macro_node_to_text(self, node: latexwalker.LatexMacroNode) -> str:
        if self.latex_context.get_macro_spec(node.macroname) is None:
            name: str = node.macroname  # an unknown macro: its name, not nothing
            return name
        text: str = super().macro_node_to_text(node)
        return text

    def math_node_to_text(self, node: latexwalker.LatexMathNode) -> str:
        if node.isNodeType(latexwalker.LatexEnvironmentNode) or node.displaytype == "display":
            text: str = super().math_node_to_text(node)
            return text
        pieces: list[str] = []
        script = ""  # ^ or _ waiting for what it applies to
        for child in node.nodelist:
            if child.isNodeType(latexwalker.LatexCharsNode):
                for char in child.chars:
                    if script and not char.isspace():
                        pieces.append(scripted(char, script))
                        script = ""
                    elif char in "^_":
                        script = char
                    elif not script:
                        pieces.append(char)
                continue
            text = self.node_to_text(child)
            pieces.append(scripted(text, script) if script else text)
            script = ""
        return ("".join(pieces) + script).strip()


LATEX = LatexToText()


def latex_text(value: str) -> str:
    """LaTeX text as plain Unicode, on one line.

    Raises ValueError for text nested more than ``MAX_NESTING`` deep, or that pylatexenc cannot
    read (it fails inside on some malformed input, e.g. ``\\sqrt\\sqrt``).
    """
    if latex_nesting(value) > MAX_NESTING:
        raise ValueError(
            f"braces, brackets or environments nest more than {MAX_NESTING} levels deep"
        )
    try:
        return " ".join(LATEX.latex_to_text(value).split())
    except Exception:  # any failure of the parser is a problem of this entry, not a crash
        shown = value if len(value) <= 60 else f"{value[:59]}…"
        raise ValueError(f"cannot read the LaTeX in '{shown}'") from None


# --- CSL rich text ---------------------------------------------------------------------------

_RICH_TEXT = re.compile(
    r"<(sup|sub)>(.*?)</\1>"
    r'|</?(?:i|b|sc|span(?: class="nocase"| class="nodecor"| style="[^"<>]*")?)>',
    re.DOTALL,
)


def csl_text(value: str) -> str:
    """A CSL-JSON string without its rich-text tags; ``<sup>``/``<sub>`` made Unicode."""
    if "<" not in value:
        return value
    return _RICH_TEXT.sub(
        lambda matched: (
            scripted(matched.group(2), "^" if matched.group(1) == "sup" else "_")
            if matched.group(1)
            else ""
        ),
        value,
    )
