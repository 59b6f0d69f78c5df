"""Where the triples about a few subjects are written in a Turtle/TriG file too big to read whole.

:func:`explore_kg.positions.read_file` tokenizes a whole text (100k triples: 3.8 MB of text, 8 s and
360k token objects), which the large validate path cannot afford. It needs the statements about the few
subjects its results name; this module streams the file line by line and splits it into top-level
statements with a light scan that knows only what can hide a statement's end: strings (short and
long, over several lines), IRIs, comments, ``[ ]`` and ``( )`` nesting, TriG graph blocks and the
directives (``@prefix`` / ``PREFIX``, ``@base`` / ``BASE``, which it follows). A statement whose
subject is wanted is handed, alone, to the reader of :mod:`explore_kg.positions` at its own line and
column, so its triples get the same positions (and blank nodes the same anchors) as a whole-file read
gives. Memory: the current statement, and only if it is wanted; time: a few regular-expression
searches a line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

from .positions import WrittenFile, _unescape_iri, read_text

# What can hide a statement's end, leftmost first: a long string's opening quotes (its end is looked for
# with _LONG_END, maybe lines later), a short string, an IRI, an escape in a prefixed name, a comment, a
# '.' that ends a statement (not one inside a prefixed name or a number: those are followed by a name
# character), brackets. (No look-behind: every alternative starts with one of a few characters, which the
# search looks for first.)
_SCAN = re.compile(r'''"""|\'\'\'|"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*'|<[^<>"{}|^`\\\x00-\x20]*>'''
                   r'''|\\.|\#|\.(?![\w\-:%\u00B7])|[\[\](){}]''')
_LONG_END = {'"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*"""', re.S),
             "'''": re.compile(r"(?:[^'\\]|\\.|'(?!''))*'''", re.S)}
_SPACE = re.compile(r"[ \t\r\n]*")
# The first term of a statement: an IRI, a prefixed name, a blank node ('_:x', '[' or a '(' list).
_FIRST = re.compile(r'''<([^<>"{}|^`\\\x00-\x20]*)>|(_:|\[|\()|([^\s:<>"'\[\](){}#;,]*):((?:[^\s\\;,()\[\]"'#<]|\\.)*?)'''
                    r'''(?=\.?(?:[\s;,\[\]()#{]|$))''')
_DIRECTIVE = re.compile(r"(@prefix|@base|prefix|base)\s+(?:([^\s:]*):\s*)?<([^<>]*)>", re.I)
_SPARQL_DIRECTIVE = re.compile(r"(?:prefix|base)\s", re.I)


def read_subjects(path: Path | str, wanted: Callable[[str], bool],
                  blank: Callable[[WrittenFile], bool] | None = None) -> WrittenFile:
    """The triples of the statements of a Turtle/TriG file whose subject is an IRI that ``wanted``
    accepts, with their positions; empty if the file cannot be read. With ``blank``, also those of the
    statements whose subject is a blank node and that ``blank`` accepts (read on their own first: only
    the ones asked for are kept)."""
    path = Path(path)
    out = WrittenFile()
    try:
        f = path.open(encoding="utf-8-sig", errors="replace")  # (a byte order mark is not a column)
    except OSError:
        return out
    base = path.resolve().as_uri()
    prefixes: dict[str, str] = {}
    kind = None  # None: between statements; else 'read', 'blank', 'skip', 'directive' or 'sparql'
    parts: list[str] = []  # the text of a statement being kept
    start_line = start_column = depth = 0
    long = None  # the quotes of a long string that goes on past the line

    def first_kind(line: str, at: int) -> str:
        if line[at] == "@":
            return "directive"
        if line[at] in "pPbB" and _SPARQL_DIRECTIVE.match(line, at):
            return "sparql"
        m = _FIRST.match(line, at)
        if m is None:
            return "skip"
        if m.group(2):
            return "blank" if blank else "skip"
        if m.group(1) is not None:
            iri = _unescape_iri(m.group(1))
            iri = urljoin(base, iri) if base and ":" not in iri.split("/", 1)[0] else iri
        elif m.group(3) in prefixes:
            local = m.group(4)
            iri = prefixes[m.group(3)] + (re.sub(r"\\(.)", r"\1", local) if "\\" in local else local)
        else:
            return "skip"
        return "read" if wanted(iri) else "skip"

    def finish(text: str) -> None:
        nonlocal base
        if kind == "read":
            read_text(" " * start_column + text, base, prefixes=prefixes, first_line=start_line, into=out)
        elif kind == "blank":
            alone = WrittenFile(_fresh=out._fresh)
            read_text(" " * start_column + text, base, prefixes=prefixes, first_line=start_line, into=alone)
            if blank(alone):
                out.anchors.update(alone.anchors)
                for triple in alone.triples:
                    out.add(triple)
                out._fresh = alone._fresh
        elif kind in ("directive", "sparql"):
            m = _DIRECTIVE.match(text)
            if m and m.group(1).lower().endswith("prefix"):
                prefixes[m.group(2) or ""] = urljoin(base, _unescape_iri(m.group(3)))
            elif m:
                base = urljoin(base, _unescape_iri(m.group(3)))

    with f:
        for number, line in enumerate(f, start=1):
            pos, size, segment = 0, len(line), 0  # segment: where this line's part of a kept statement starts
            while pos < size:
                if long is not None:
                    m = _LONG_END[long].match(line, pos)
                    if m is None:
                        pos = size
                        break
                    pos, long = m.end(), None
                    continue
                if kind is None:
                    pos = _SPACE.match(line, pos).end()
                    if pos >= size or line[pos] == "#":
                        break
                    if line[pos] in "{}":  # a graph block's braces, between its statements
                        pos += 1
                        continue
                    kind, parts, depth = first_kind(line, pos), [], 0
                    start_line, start_column, segment = number, pos, pos
                m = _SCAN.search(line, pos)
                if m is None:
                    break
                token, pos = m.group(), m.end()
                first = token[0]
                if token in _LONG_END:
                    long = token
                elif first == "#":
                    break
                elif first == "\\":
                    continue
                elif first in "[(":
                    depth += 1
                elif first in "])":
                    depth -= 1
                elif first == "{":  # what came before was a graph's name: not a statement
                    kind = None
                elif (first == "." and depth <= 0) or first == "}" or (first == "<" and kind == "sparql"):
                    end = pos - 1 if first == "}" else pos
                    if kind != "skip":
                        finish("".join(parts) + line[segment:end])
                    kind = None
            if kind is not None and kind != "skip":
                parts.append(line[segment:])
    if kind is not None and kind != "skip":
        finish("".join(parts))
    return out
