"""Where each triple of a Turtle or TriG file is written: line and column of its subject, predicate and object.

RDF parsers (pyoxigraph, rdflib) hand back triples without positions, so a validation result about
``(focus, path, value)`` could only point at the line where the focus's block starts. This module reads
the file's own token stream instead, with a small tokenizer and a forgiving recursive-descent reader
of the Turtle 1.1 / TriG grammar: ``@prefix``/``PREFIX``, ``@base``/``BASE``, prefixed names with
escapes, ``a``, predicate-object lists (``;``), object lists (``,``), blank-node property lists
(``[ ... ]``), collections (``( ... )``), short and long strings, language tags, ``^^`` datatypes,
numbers, booleans, comments, and TriG graph blocks. It is only ever run on files that the real parser
has accepted, so it does not report errors: on anything it does not understand it skips to the next
``.`` and carries on.

Terms are rdflib terms built the way :func:`explore_kg.loading.to_rdflib` builds them, so a triple found
here compares equal to the same triple from the store. Blank nodes cannot be matched by label (each
parser names them its own way); each one carries its *anchor* instead: the IRI at the root of the
nesting and the predicates that lead from it to the blank node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
_TYPE = URIRef(RDF_NS + "type")
_FIRST, _REST, _NIL = URIRef(RDF_NS + "first"), URIRef(RDF_NS + "rest"), URIRef(RDF_NS + "nil")


@dataclass(frozen=True)
class Position:
    """A 1-based line and column in a file (columns count characters, as editors and GitHub do)."""

    line: int
    column: int


@dataclass(frozen=True)
class WrittenTriple:
    """One triple as the file writes it, with where each of its three terms is."""

    subject: Node
    predicate: URIRef
    object: Node
    subject_at: Position  # the subject term, or the '[' that opens a blank node
    predicate_at: Position
    object_at: Position  # the object term, the '[' of a blank node, or the item of a collection
    graph: Node | None = None


@dataclass
class WrittenFile:
    """Every triple a Turtle/TriG file writes, in order, and an index to find them by their terms."""

    triples: list[WrittenTriple] = field(default_factory=list)
    anchors: dict[BNode, tuple[Node, tuple[URIRef, ...]]] = field(default_factory=dict)
    _by_sp: dict[tuple, list[WrittenTriple]] = field(default_factory=dict)
    _subject_at: dict[object, Position] = field(default_factory=dict)
    _subject_graph: dict[object, Node | None] = field(default_factory=dict)
    _fresh: int = 0  # blank nodes named so far (several texts may be read into one file: positions_stream)

    def add(self, triple: WrittenTriple) -> None:
        self.triples.append(triple)
        key = self.key(triple.subject)
        self._by_sp.setdefault((key, triple.predicate), []).append(triple)
        self._subject_at.setdefault(key, triple.subject_at)
        self._subject_graph.setdefault(key, triple.graph)

    def set_last_graph(self, graph: Node) -> None:
        """The graph of the triple added last (an N-Quads line names it after the triple)."""
        last = replace(self.triples[-1], graph=graph)
        self.triples[-1] = last
        key = self.key(last.subject)
        self._by_sp[(key, last.predicate)][-1] = last
        if self._subject_at.get(key) == last.subject_at and self._subject_graph.get(key) is None:
            self._subject_graph[key] = graph

    def key(self, node: Node) -> object:
        """IRIs and literals are their own key; a blank node is keyed by its anchor."""
        if isinstance(node, BNode):
            return ("bnode", self.anchors.get(node, (node, ())))
        return node

    def find(self, subject: Node, predicate: URIRef, obj: Node | None = None,
             subject_anchor: tuple | None = None) -> list[WrittenTriple]:
        """The written triples with this subject and predicate (and object, if given).

        For a blank-node subject pass ``subject_anchor`` (root IRI, predicates) as computed in the
        graph; for a blank-node object any blank node matches.
        """
        key = ("bnode", subject_anchor) if subject_anchor is not None else subject
        found = self._by_sp.get((key, predicate), [])
        if obj is None:
            return list(found)
        if isinstance(obj, BNode):
            return [t for t in found if isinstance(t.object, BNode)]
        return [t for t in found if _same(t.object, obj)]

    def subject_position(self, subject: Node, subject_anchor: tuple | None = None) -> Position | None:
        """Where the file first writes ``subject`` as a subject (its block), if it does."""
        return self._subject_at.get(("bnode", subject_anchor) if subject_anchor is not None else subject)

    def subject_graph(self, subject: Node, subject_anchor: tuple | None = None) -> Node | None:
        """The graph of the first triple the file writes about ``subject``, if it names one (TriG, N-Quads)."""
        return self._subject_graph.get(("bnode", subject_anchor) if subject_anchor is not None else subject)

    def blank_root_like(self, pairs: set) -> BNode | None:
        """The written blank node at the root of its nesting (a ``[ ... ]`` or ``_:x`` subject) that says
        nothing outside ``pairs`` ((predicate, object) as :func:`term_key` gives them; blank-node objects
        aside) and most of it, the first such: a blank node that no IRI holds has no anchor to find it
        by, so it is found by what it says (the graph says at least what the file writes)."""
        scores: dict[BNode, int] = {}
        foreign: set[BNode] = set()
        for (key, predicate), found in self._by_sp.items():
            if key[0] != "bnode" or key[1][1] or not isinstance(key[1][0], BNode):
                continue
            node = key[1][0]
            told = [(predicate, term_key(t.object)) for t in found if not isinstance(t.object, BNode)]
            scores[node] = scores.get(node, 0) + sum(pair in pairs for pair in told)
            if any(pair not in pairs for pair in told):
                foreign.add(node)
        best = max((score for node, score in scores.items() if node not in foreign), default=0)
        if not best:
            return None
        return min((node for node, score in scores.items() if score == best and node not in foreign),
                   key=lambda node: (self._subject_at[("bnode", (node, ()))].line, self._subject_at[("bnode", (node, ()))].column))

    def mentions(self, term: Node) -> list[tuple[WrittenTriple, str]]:
        """Every place the file writes ``term``, as (triple, 'subject' | 'predicate' | 'object')."""
        out = []
        for t in self.triples:
            for role in ("subject", "predicate", "object"):
                if _same(getattr(t, role), term):
                    out.append((t, role))
        return out


def term_key(node: Node) -> object:
    """What two terms that :func:`_same` calls equal have in common (None for a blank node)."""
    if isinstance(node, Literal):
        return ("literal", str(node), str(node.datatype or ""), (node.language or "").lower())
    return None if isinstance(node, BNode) else node


def _same(a: Node, b: Node) -> bool:
    if isinstance(a, Literal) and isinstance(b, Literal):
        return (str(a) == str(b) and a.datatype == b.datatype
                and (a.language or "").lower() == (b.language or "").lower())
    return a == b


# --- tokens --------------------------------------------------------------------------------------

_PN_CHARS_BASE = (
    "A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
    "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD"
)
_PN_CHARS = _PN_CHARS_BASE + r"_0-9\-\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PREFIX = rf"(?:[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)?"
_LOCAL = rf"(?:(?:[{_PN_CHARS_BASE}_:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?)?"

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<long>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*''')
  | (?P<string>"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*')
  | (?P<datatype>\^\^)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<bnode>_:[""" + _PN_CHARS_BASE + r"""_0-9](?:[""" + _PN_CHARS + r""".]*[""" + _PN_CHARS + r"""])?)
  | (?P<number>[+-]?(?:[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.[0-9]+[eE][+-]?[0-9]+|[0-9]+[eE][+-]?[0-9]+|[0-9]*\.[0-9]+|[0-9]+))
  | (?P<pname>""" + _PREFIX + ":" + _LOCAL + r""")
  | (?P<word>[A-Za-z][A-Za-z0-9]*)
  | (?P<punct>[.;,\[\](){}])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    at: Position


def tokens(text: str, first_line: int = 1) -> list[Token]:
    """The significant tokens of a Turtle/TriG text (no whitespace, no comments), with positions
    (``first_line``: the line number of the text's first line, for a piece of a file)."""
    out = []
    line, line_start = first_line, 0
    for m in _TOKEN.finditer(text):
        kind, value = m.lastgroup, m.group()
        if kind not in ("ws", "comment"):
            out.append(Token(kind, value, Position(line, m.start() - line_start + 1)))
        newlines = value.count("\n")
        if newlines:
            line += newlines
            line_start = m.start() + value.rindex("\n") + 1
    return out


_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_STRING_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)


def _unescape_string(body: str) -> str:
    return _STRING_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)) if (m.group(1) or m.group(2))
                              else _ESCAPES.get(m.group(3), "\\" + m.group(3)), body)


def _unescape_iri(body: str) -> str:
    return re.sub(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})", lambda m: chr(int(m.group(1) or m.group(2), 16)), body)


# --- the reader -----------------------------------------------------------------------------------


class _Reader:
    def __init__(self, toks: list[Token], base: str, out: WrittenFile | None = None):
        self.toks, self.i, self.base = toks, 0, base
        self.prefixes: dict[str, str] = {}
        self.out = out if out is not None else WrittenFile()
        self.graph: Node | None = None

    # cursor
    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def next(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at(self, text: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "punct" and tok.text == text

    def expect(self, text: str) -> None:
        if not self.at(text):
            raise _Skip
        self.i += 1

    def bnode(self) -> BNode:
        self.out._fresh += 1
        return BNode(f"written{self.out._fresh}")

    # terms
    def iri(self, tok: Token) -> URIRef:
        if tok.kind == "iri":
            return URIRef(urljoin(self.base, _unescape_iri(tok.text[1:-1])) if self.base else _unescape_iri(tok.text[1:-1]))
        if tok.kind == "pname":
            prefix, _, local = tok.text.partition(":")
            if prefix not in self.prefixes:
                raise _Skip
            local = re.sub(r"\\(.)", r"\1", local)
            return URIRef(self.prefixes[prefix] + local)
        if tok.kind == "word" and tok.text == "a":
            return _TYPE
        raise _Skip

    def literal(self, tok: Token) -> Literal:
        if tok.kind == "number":
            text = tok.text
            dt = "double" if "e" in text.lower() else "decimal" if "." in text else "integer"
            return Literal(text, datatype=URIRef(XSD_NS + dt))
        if tok.kind == "word" and tok.text in ("true", "false"):
            return Literal(tok.text, datatype=URIRef(XSD_NS + "boolean"))
        quote = 3 if tok.kind == "long" else 1
        value = _unescape_string(tok.text[quote:-quote])
        nxt = self.peek()
        if nxt is not None and nxt.kind == "langtag":
            self.i += 1
            return Literal(value, lang=nxt.text[1:].lower())
        if nxt is not None and nxt.kind == "datatype":
            self.i += 1
            dt = self.iri(self.next())
            if str(dt) == XSD_NS + "string":
                return Literal(value)
            return Literal(value, datatype=dt)
        return Literal(value)

    # grammar
    def document(self) -> WrittenFile:
        while self.peek() is not None:
            start = self.i
            try:
                self.statement()
            except (_Skip, IndexError):
                self.i = max(self.i, start + 1)
                while self.peek() is not None and not self.at(".") and not self.at("}"):
                    self.i += 1
                if self.peek() is not None:
                    self.i += 1
        return self.out

    def statement(self) -> None:
        tok = self.peek()
        if tok.kind == "langtag" and tok.text in ("@prefix", "@base"):
            self.next()
            self.directive(tok.text[1:])
            self.expect(".")
            return
        if tok.kind == "word" and tok.text.upper() in ("PREFIX", "BASE"):
            self.next()
            self.directive(tok.text.lower())
            return
        if tok.kind == "word" and tok.text.upper() == "GRAPH":
            self.next()
            self.graph_block(self.iri_or_bnode(self.next()))
            return
        if self.at("{"):
            self.graph_block(None)
            return
        # TriG: a graph label followed by '{'
        nxt = self.peek(1)
        if tok.kind in ("iri", "pname", "bnode") and nxt is not None and nxt.kind == "punct" and nxt.text == "{":
            self.next()
            self.graph_block(self.iri_or_bnode(tok))
            return
        self.triples()
        tok = self.peek()
        if tok is not None and tok.kind in ("iri", "bnode"):  # N-Quads: the graph after the triple
            self.next()
            self.out.set_last_graph(self.iri_or_bnode(tok))
        self.expect(".")

    def directive(self, which: str) -> None:
        if which == "prefix":
            name = self.next()
            if name.kind != "pname" or not name.text.endswith(":"):
                raise _Skip
            iri = self.next()
            self.prefixes[name.text[:-1]] = str(self.iri(iri))
        else:
            iri = self.next()
            self.base = str(self.iri(iri))

    def iri_or_bnode(self, tok: Token) -> Node:
        return BNode(tok.text[2:]) if tok.kind == "bnode" else self.iri(tok)

    def graph_block(self, graph: Node | None) -> None:
        self.expect("{")
        outer, self.graph = self.graph, graph
        try:
            while not self.at("}"):
                self.triples()
                if self.at("."):
                    self.i += 1
            self.i += 1
        finally:
            self.graph = outer

    def triples(self) -> None:
        tok = self.peek()
        if self.at("["):
            subject, where = self.blank_property_list(None)
            if not self.at(".") and not self.at("}"):
                self.predicate_objects(subject, where, self.out.anchors[subject])
            return
        if self.at("("):
            subject, where = self.collection(None)
            self.predicate_objects(subject, where, self.out.anchors.get(subject, (subject, ())))
            return
        self.next()
        subject = self.iri_or_bnode(tok)
        if isinstance(subject, BNode):
            self.out.anchors.setdefault(subject, (subject, ()))
        self.predicate_objects(subject, tok.at, (subject, ()))

    def predicate_objects(self, subject: Node, subject_at: Position, anchor: tuple) -> None:
        while True:
            tok = self.next()
            predicate = self.iri(tok)
            while True:
                self.object(subject, subject_at, predicate, tok.at, anchor)
                if not self.at(","):
                    break
                self.i += 1
            if not self.at(";"):
                return
            while self.at(";"):
                self.i += 1
            if self.at(".") or self.at("]") or self.at("}") or self.peek() is None:
                return

    def object(self, subject: Node, subject_at: Position, predicate: URIRef, predicate_at: Position,
               anchor: tuple) -> None:
        child_anchor = (anchor[0], (*anchor[1], predicate))
        tok = self.peek()
        if self.at("["):
            obj, where = self.blank_property_list(child_anchor)
        elif self.at("("):
            obj, where = self.collection(child_anchor)
        else:
            self.next()
            where = tok.at
            if tok.kind in ("string", "long", "number") or (tok.kind == "word" and tok.text in ("true", "false")):
                obj = self.literal(tok)
            else:
                obj = self.iri_or_bnode(tok)
        self.out.add(WrittenTriple(subject, predicate, obj, subject_at, predicate_at, where, self.graph))

    def blank_property_list(self, anchor: tuple | None) -> tuple[BNode, Position]:
        """A ``[ ... ]``; ``anchor`` None for one that is itself the subject of a statement (its own root)."""
        open_at = self.next().at  # '['
        node = self.bnode()
        anchor = anchor if anchor is not None else (node, ())
        self.out.anchors[node] = anchor
        if not self.at("]"):
            self.predicate_objects(node, open_at, anchor)
        self.expect("]")
        return node, open_at

    def collection(self, anchor: tuple | None) -> tuple[Node, Position]:
        """A ``( ... )`` as rdf:first/rdf:rest triples; ``anchor`` None for a collection that is a subject."""
        open_at = self.next().at  # '('
        items: list[tuple[Node, Position]] = []
        while not self.at(")"):
            tok = self.peek()
            if self.at("["):
                items.append(self.blank_property_list(None))  # nodes inside a list are anchored on themselves
            elif self.at("("):
                items.append(self.collection(None))
            else:
                self.next()
                if tok.kind in ("string", "long", "number") or (tok.kind == "word" and tok.text in ("true", "false")):
                    items.append((self.literal(tok), tok.at))
                else:
                    items.append((self.iri_or_bnode(tok), tok.at))
        self.i += 1
        if not items:
            return _NIL, open_at
        head = self.bnode()
        node = head
        anchor = anchor if anchor is not None else (head, ())
        self.out.anchors[node] = anchor
        for n, (item, where) in enumerate(items):
            self.out.add(WrittenTriple(node, _FIRST, item, where, where, where, self.graph))
            rest = _NIL if n == len(items) - 1 else self.bnode()
            if isinstance(rest, BNode):
                anchor = (anchor[0], (*anchor[1], _REST))  # the n-th cell: rdf:rest n times from the head
                self.out.anchors[rest] = anchor
            self.out.add(WrittenTriple(node, _REST, rest, where, where, where, self.graph))
            node = rest
        return head, open_at


class _Skip(Exception):
    """Something this reader does not understand: skip to the next statement."""


def read_text(text: str, base: str = "", *, prefixes: dict[str, str] | None = None, first_line: int = 1,
              into: WrittenFile | None = None) -> WrittenFile:
    """Every triple that a Turtle or TriG text writes, with positions. Never raises.

    For a piece of a file (:mod:`explore_kg.positions_stream`): ``prefixes`` declared before it, the
    line number of its first line, and the WrittenFile to add its triples to.
    """
    reader = _Reader(tokens(text, first_line), base, into)
    reader.prefixes.update(prefixes or {})
    return reader.document()


@lru_cache(maxsize=64)
def _read_cached(path: str, mtime_ns: int, size: int) -> WrittenFile:
    text = Path(path).read_text(encoding="utf-8-sig", errors="replace")  # (a byte order mark is not a column)
    return read_text(text, Path(path).resolve().as_uri())


def read_file(path: Path | str) -> WrittenFile:
    """The written triples of a Turtle/TriG file (cached while the file is unchanged); empty if unreadable
    or of another syntax."""
    p = Path(path)
    if p.suffix.lower() not in (".ttl", ".turtle", ".trig", ".nt", ".nq"):
        return WrittenFile()
    try:
        st = p.stat()
    except OSError:
        return WrittenFile()
    return _read_cached(str(p.resolve()), st.st_mtime_ns, st.st_size)
