"""Virtuoso 7's arbitrary-length property paths, made right: ``p*``, ``p+`` and ``p?`` rewritten before
a query is sent.

Measured on Virtuoso 07.20 (docs/stores.md): its paths are right alone (``?c a/rdfs:subClassOf*
ekg:Company``) but wrong once joined to other patterns (companies-and-roles: 1 row for 9, events-hosted-by:
1 for 3), and refused when neither end is bound ("transitive start not given", "transitive derived table
but neither end of it is bound"). Its ``OPTION (TRANSITIVE)`` has the same need for a bound end.

So each triple pattern whose path has a ``*``, ``+`` or ``?`` step is rewritten, for any query (saved
or a user's), as SPARQL 1.1 defines it:

* a sequence becomes triple patterns joined by fresh variables, an alternative a UNION, ``^`` swaps
  the ends, and a step without a modifier is left to the store (Virtuoso gets those right);
* a step ``X*`` / ``X+`` / ``X?`` becomes the *closure of X* as a ``VALUES`` block: the pairs
  ``?a X ?b`` are read from the store (one SELECT in the same dataset and GRAPH as the pattern),
  closed here (breadth first), and, for ``*`` and ``?``, the zero-length pairs added: the constant
  end itself, or every node of the active graph (a ``SELECT DISTINCT`` the store evaluates) when
  neither end is a constant. Distinct pairs, as SPARQL's arbitrary-length paths give.

A pattern that this cannot make right is refused with a 400-class error naming the limitation,
never answered wrongly: such a path inside ``GRAPH ?variable``, a ``*``/``+`` inside another one, a
closure through more than :data:`MAX_EDGES` steps or ending on blank nodes, blank-node ends (``[ ]``).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ...safety import QueryRefused

MAX_EDGES = 9999  # below Virtuoso's default ResultSetMaxRows (10000), which truncates silently
MAX_PAIRS = 20000  # closure pairs written into one query
HELPER = "ekgpath"  # fresh variables: ?ekgpath<N>_ (a prefix the query does not use is chosen)

_TOKEN = re.compile(r"""
  (?P<ws>\s+) | (?P<comment>\#[^\n\r]*)
| (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
| (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
| (?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)
| (?P<pname>(?:[A-Za-z\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*)?:(?:[\w\-:%\u00b7\u00c0-\uffff]|\\.|\.(?=[\w\-:%\u00c0-\uffff]))*)
| (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
| (?P<word>[A-Za-z_][A-Za-z0-9_]*)
| (?P<other>\^\^|.)
""", re.VERBOSE | re.DOTALL)

_PATTERN_WORDS = {"OPTIONAL", "MINUS", "GRAPH", "SERVICE", "FILTER", "BIND", "VALUES", "UNION"}
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


class PathRefused(QueryRefused):
    """A property path Virtuoso cannot answer right and this rewrite cannot make right (400)."""


@dataclass
class Tok:
    kind: str
    text: str
    start: int
    end: int


def _tokens(text: str) -> list[Tok]:
    return [Tok(m.lastgroup, m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)
            if m.lastgroup not in ("ws", "comment")]


# --- paths ----------------------------------------------------------------------------------------

@dataclass
class Path:
    """A parsed property path: op is link (text), inv, seq, alt, or mod (with modifier * + ?)."""

    op: str
    parts: list = field(default_factory=list)
    text: str = ""
    modifier: str = ""

    def has_modifier(self) -> bool:
        return self.op == "mod" or any(p.has_modifier() for p in self.parts if isinstance(p, Path))


class _PathParser:
    def __init__(self, toks: list[Tok], at: int):
        self.toks, self.at = toks, at

    def peek(self) -> Tok | None:
        return self.toks[self.at] if self.at < len(self.toks) else None

    def alt(self) -> Path:
        parts = [self.seq()]
        while (t := self.peek()) and t.text == "|":
            self.at += 1
            parts.append(self.seq())
        return parts[0] if len(parts) == 1 else Path("alt", parts)

    def seq(self) -> Path:
        parts = [self.elt()]
        while (t := self.peek()) and t.text == "/":
            self.at += 1
            parts.append(self.elt())
        return parts[0] if len(parts) == 1 else Path("seq", parts)

    def elt(self) -> Path:
        t = self.peek()
        if t is None:
            raise ValueError("a path ends early")
        if t.text == "^":
            self.at += 1
            return Path("inv", [self.elt()])
        start = self.at
        if t.text == "(":
            self.at += 1
            inner = self.alt()
            if (c := self.peek()) is None or c.text != ")":
                raise ValueError("a path's ( is not closed")
            self.at += 1
            primary = inner
        elif t.text == "!":  # a negated property set: the store evaluates it as it is
            self.at += 1
            if (n := self.peek()) and n.text == "(":
                depth = 0
                while (n := self.peek()) is not None:
                    self.at += 1
                    depth += {"(": 1, ")": -1}.get(n.text, 0)
                    if depth == 0:
                        break
            else:
                self.at += 1
            primary = Path("link", text=" ".join(x.text for x in self.toks[start:self.at]))
        elif t.kind in ("iri", "pname") or (t.kind == "word" and t.text == "a"):
            self.at += 1
            primary = Path("link", text=t.text)
        else:
            raise ValueError(f"not a path: {t.text}")
        m = self.peek()
        if m is not None and m.text in ("*", "+", "?") and m.kind == "other":
            self.at += 1
            return Path("mod", [primary], modifier=m.text)
        return primary


def path_text(p: Path) -> str:
    if p.op == "link":
        return p.text
    if p.op == "inv":
        return "^" + _wrap(p.parts[0])
    if p.op == "mod":
        return _wrap(p.parts[0]) + p.modifier
    sep = "/" if p.op == "seq" else "|"
    return "(" + sep.join(_wrap(x) for x in p.parts) + ")"


def _wrap(p: Path) -> str:
    text = path_text(p)
    return text if p.op in ("link", "mod") or text.startswith("(") else f"({text})"


# --- the rewrite ------------------------------------------------------------------------------------

Select = Callable[[str], list[dict]]  # a SELECT on the store -> rows of pyoxigraph terms


class Rewriter:
    """One query's rewrite. ``select(sparql)`` runs a SELECT on the store in the query's dataset."""

    def __init__(self, sparql: str, select: Select):
        self.sparql, self.select = sparql, select
        self.toks = _tokens(sparql)
        self.edits: list[tuple[int, int, str]] = []
        n = 0
        while f"{HELPER}{n}_" in sparql:
            n += 1
        self.prefix, self.fresh = f"{HELPER}{n}_", 0
        self.prefixes: dict[str, str] = {}
        self.exists: tuple[int, int] | None = None  # the token span of the EXISTS group being walked
        self._exists_spans: list[tuple[int, int]] | None = None
        self.where = len(self.toks)
        self.prologue, self.dataset = self._head()

    def _head(self) -> tuple[str, str]:
        """The query's PREFIX/BASE declarations and its FROM clauses (for the closure queries)."""
        prologue_end, dataset = None, []
        for i, t in enumerate(self.toks):
            if t.kind == "word" and t.text.upper() in _FORMS and prologue_end is None:
                prologue_end = t.start
            if t.text == "{":
                break
            if t.kind == "word" and t.text.upper() == "PREFIX" and self.toks[i + 2].kind == "iri":
                self.prefixes[self.toks[i + 1].text.rstrip(":")] = self.toks[i + 2].text[1:-1]
            if t.kind == "word" and t.text.upper() == "FROM":
                j = i + 1
                named = self.toks[j].text.upper() == "NAMED"
                j += named
                dataset.append(f"FROM {'NAMED ' if named else ''}{self.toks[j].text}")
        return self.sparql[:prologue_end or 0], " ".join(dataset)

    def var(self) -> str:
        self.fresh += 1
        return f"?{self.prefix}{self.fresh}"

    def run(self) -> str:
        from ...safety import where_group_start

        at = where_group_start(self.sparql)
        if at is None:
            return self.sparql
        self.where = next(k for k, t in enumerate(self.toks) if t.start >= at)
        self.group_items(self.where, [])
        out, last = [], 0
        for start, end, text in sorted(self.edits):
            out += [self.sparql[last:start], text]
            last = end
        return "".join(out) + self.sparql[last:]

    # -- walking the query: groups, the patterns in them, expressions ----

    def group_items(self, i: int, graphs: list[str]) -> int:
        """Walk from token i until the group's closing brace (returned: its index) or the end."""
        toks = self.toks
        while i < len(toks):
            t = toks[i]
            word = t.text.upper() if t.kind == "word" else ""
            if t.text == "}":
                return i
            if t.text == "{":
                i = self.group_items(i + 1, graphs) + 1
            elif word == "GRAPH":
                name = toks[i + 1].text
                i = self.group_items(i + 3, [*graphs, name]) + 1
            elif word in ("FILTER", "BIND"):
                i = self.expression(i + 1, graphs)
            elif word == "SELECT":
                return self.subselect(i + 1, graphs)
            elif word in _PATTERN_WORDS or word in ("SILENT", "NOT", "EXISTS"):
                if word == "VALUES":
                    i = self.skip_values(i + 1)
                else:
                    i += 1
            elif t.text == "(":
                i = self.expression(i, graphs)
            elif t.text in (".", ",", ";", "*"):
                i += 1
            elif t.kind in ("var", "iri", "pname", "string", "number") or t.text in ("[", "true", "false"):
                i = self.statement(i, graphs)
            else:
                i += 1
        return i

    def subselect(self, i: int, graphs: list[str]) -> int:
        """A sub-SELECT: its projection's expressions, its WHERE group, then its modifiers up to the
        brace closing the group it is in (returned)."""
        toks = self.toks
        while i < len(toks) and toks[i].text != "{":
            i = self.expression(i, graphs) if toks[i].text == "(" else i + 1
        i = self.group_items(i + 1, graphs) + 1
        while i < len(toks) and toks[i].text != "}":
            if toks[i].text == "(":
                i = self.expression(i, graphs)
            elif toks[i].text == "{":
                i = self.skip_values(i)
            else:
                i += 1
        return i

    def skip_values(self, i: int) -> int:
        depth = 0
        while i < len(self.toks):
            t = self.toks[i].text
            depth += {"{": 1, "}": -1}.get(t, 0)
            i += 1
            if depth == 0 and t == "}":
                return i
        return i

    def expression(self, i: int, graphs: list[str]) -> int:
        """Skip one FILTER/BIND/ORDER expression, walking the groups of its EXISTS; returns the next index."""
        toks = self.toks
        if i < len(toks) and toks[i].kind == "word" and toks[i].text.upper() in ("NOT", "EXISTS", "BY"):
            while i < len(toks) and toks[i].kind == "word" and toks[i].text.upper() in ("NOT", "EXISTS", "BY"):
                i += 1
            if i < len(toks) and toks[i].text == "{":
                return self.exists_group(i, graphs)
        if i < len(toks) and toks[i].kind in ("iri", "pname", "word"):
            i += 1  # a function call or builtin: its arguments follow
        if i >= len(toks) or toks[i].text != "(":
            return i
        depth = 0
        while i < len(toks):
            t = toks[i]
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
                if depth == 0:
                    return i + 1
            elif t.text == "{":
                i = self.exists_group(i, graphs) - 1
            i += 1
        return i

    def exists_group(self, i: int, graphs: list[str]) -> int:
        """The group of an EXISTS at token i (its ``{``); the index after it. Its variables that the
        query also uses outside it are bound from outside (see :meth:`_bind`)."""
        outermost = self.exists is None
        if outermost:
            self.exists = (i, self._matching(i))
        end = self.group_items(i + 1, graphs) + 1
        if outermost:
            self.exists = None
        return end

    def _matching(self, i: int) -> int:
        depth = 0
        for k in range(i, len(self.toks)):
            depth += {"{": 1, "}": -1}.get(self.toks[k].text, 0)
            if depth == 0:
                return k
        return len(self.toks)

    def _outer(self, var: str) -> bool:
        """Whether ``var`` (inside an EXISTS) is also used in the WHERE pattern outside every EXISTS, so
        taken as bound when the EXISTS is tried (a variable only projected is not)."""
        if self.exists is None:
            return False
        if self._exists_spans is None:
            self._exists_spans = [(k, self._matching(k + 1)) for k, t in enumerate(self.toks)
                                  if t.kind == "word" and t.text.upper() == "EXISTS"
                                  and k + 1 < len(self.toks) and self.toks[k + 1].text == "{"]
        return any(t.text == var and k >= self.where and not any(lo <= k <= hi for lo, hi in self._exists_spans)
                   for k, t in enumerate(self.toks))

    # -- one triples statement: subject, then verb object lists ----

    def term(self, i: int) -> int:
        """The index after one subject/object term."""
        t = self.toks[i]
        if t.text in ("[", "("):
            close = "]" if t.text == "[" else ")"
            depth = 0
            while i < len(self.toks):
                depth += {t.text: 1, close: -1}.get(self.toks[i].text, 0)
                i += 1
                if depth == 0:
                    return i
            return i
        if t.kind == "string":
            i += 1
            if i < len(self.toks) and self.toks[i].text == "@":
                return i + 2
            if i < len(self.toks) and self.toks[i].text == "^^":
                return i + 2
            return i
        if t.text in ("-", "+") and i + 1 < len(self.toks) and self.toks[i + 1].kind == "number":
            return i + 2
        return i + 1

    def statement(self, i: int, graphs: list[str]) -> int:
        toks = self.toks
        start = i
        subject_end = self.term(i)
        subject = self.sparql[toks[start].start:toks[subject_end - 1].end]
        i = subject_end
        pairs: list[tuple[Path | None, str, str]] = []  # (parsed path if modified, verb text, object text)
        while i < len(toks):
            if toks[i].text in (".", "}", "{") or (toks[i].kind == "word" and toks[i].text.upper() in _PATTERN_WORDS):
                break
            if toks[i].text == ";":
                i += 1
                continue
            vstart = i
            if toks[i].kind == "var":
                path, i = None, i + 1
            else:
                parser = _PathParser(toks, i)
                try:
                    parsed = parser.alt()
                except ValueError:
                    return i + 1  # not something we understand: leave it to the store
                i = parser.at
                path = parsed if parsed.has_modifier() else None
            verb = self.sparql[toks[vstart].start:toks[i - 1].end]
            while i < len(toks):
                ostart = i
                i = self.term(i)
                pairs.append((path, verb, self.sparql[toks[ostart].start:toks[i - 1].end]))
                if i < len(toks) and toks[i].text == ",":
                    i += 1
                    continue
                break
        if any(p for p, _, _ in pairs):
            if subject.startswith(("[", "(")) or any(o.startswith(("[", "(")) for p, _, o in pairs if p):
                raise PathRefused("Virtuoso 7: a property path with * + or ? whose end is a blank node "
                                  "([ ] or a collection) is not supported over this store; name the end with a variable")
            pieces = [self.pattern(p, subject, o, graphs) if p else f"{subject} {v} {o} ." for p, v, o in pairs]
            text = " ".join(pieces)
            self.edits.append((toks[start].start, toks[i - 1].end, text[:-2] if text.endswith(" .") else text))
        return i

    # -- compiling a path to patterns Virtuoso answers right ----

    def pattern(self, p: Path, s: str, o: str, graphs: list[str]) -> str:
        if not p.has_modifier():
            return f"{s} {_wrap(p)} {o} ."
        if p.op == "inv":
            return self.pattern(p.parts[0], o, s, graphs)
        if p.op == "seq":
            ends = [s] + [self.var() for _ in p.parts[1:]] + [o]
            return " ".join(self.pattern(x, ends[k], ends[k + 1], graphs) for k, x in enumerate(p.parts))
        if p.op == "alt":
            return "{ " + " } UNION { ".join(self.pattern(x, s, o, graphs) for x in p.parts) + " }"
        return self.closure(p, s, o, graphs)

    def closure(self, p: Path, s: str, o: str, graphs: list[str]) -> str:
        step = p.parts[0]
        if step.has_modifier():
            raise PathRefused(f"Virtuoso 7: the path {path_text(p)} nests * + or ? inside another: not supported "
                              "over this store")
        if any(g.startswith(("?", "$")) for g in graphs):
            raise PathRefused(f"Virtuoso 7: the path {path_text(p)} inside GRAPH {graphs[-1]} is not supported over "
                              "this store (it answers such paths wrongly); use GRAPH <iri> or the default graph")
        pattern = f"?a {_wrap(step)} ?b"
        for g in reversed(graphs):
            pattern = f"GRAPH {g} {{ {pattern} }}"
        rows = self.select(f"{self.prologue}SELECT DISTINCT ?a ?b {self.dataset} WHERE {{ {pattern} }} "
                           f"LIMIT {MAX_EDGES + 1}")
        if len(rows) > MAX_EDGES:
            raise PathRefused(f"Virtuoso 7: the path {path_text(p)} has more than {MAX_EDGES} steps in the store: "
                              "too many to evaluate right over this store")
        succ: dict = {}
        for r in rows:
            succ.setdefault(r["a"], set()).add(r["b"])
        zero = p.modifier in ("*", "?")
        s_var, o_var = s.startswith(("?", "$")), o.startswith(("?", "$"))
        if not s_var and not o_var:
            a, b = self.constant(s), self.constant(o)
            ok = (zero and a == b) or b in _reach(succ, a, p.modifier)
            return "{ }" if ok else "{ FILTER(false) }"
        if not s_var or not o_var:  # one end given: the nodes reachable from it (backwards from an object)
            given = self.constant(s if not s_var else o)
            edges = succ if not s_var else _reverse(succ)
            found = _reach(edges, given, p.modifier)
            if zero:
                found.add(given)
            return self._values([o if not s_var else s], [(t,) for t in sorted(found, key=str)], p)
        if s == o:
            if zero:
                return self._nodes(s, s)
            return self._values([s], sorted({(a,) for a in succ if a in _reach(succ, a, "+")}, key=str), p)
        pairs = sorted(((a, b) for a in succ for b in _reach(succ, a, p.modifier) if not (zero and a == b)),
                       key=lambda ab: (str(ab[0]), str(ab[1])))
        values = self._values([s, o], pairs, p)
        return f"{values} UNION {self._nodes(s, o)}" if zero else values

    def _values(self, names: list[str], rows: list[tuple], p: Path) -> str:
        if len(rows) > MAX_PAIRS:
            raise PathRefused(f"Virtuoso 7: the path {path_text(p)} connects more than {MAX_PAIRS} pairs here: too "
                              "many to evaluate right over this store; bind one of its ends")
        for row in rows:
            if any(isinstance(t, ox.BlankNode) for t in row):
                raise PathRefused(f"Virtuoso 7: the path {path_text(p)} reaches blank nodes, which cannot be named "
                                  "in a query to this store")
        if not rows:
            return "{ FILTER(false) }"
        hidden = [self.var() for _ in names]
        body = " ".join("(" + " ".join(str(t) for t in row) + ")" for row in rows)
        iris = [all(isinstance(row[k], ox.NamedNode) for row in rows) for k in range(len(names))]
        return f"{{ VALUES ({' '.join(hidden)}) {{ {body} }} {self._bind(hidden, names, iris)} }}"

    def _bind(self, hidden: list[str], names: list[str], iris: list[bool] | None = None) -> str:
        """The ends given their values from fresh variables. Measured on Virtuoso 7: a VALUES block on a
        variable that other patterns also bind is ignored or fails to compile ("unknown table for a
        column"), while BIND from a fresh variable is right. Inside an EXISTS, a variable bound from
        outside is compared instead (a BIND of it there makes the EXISTS true, embedded and on Virtuoso);
        with ``=`` (and STR for non-IRIs): Virtuoso's sameTerm of such a variable is wrong there."""
        out = []
        for k, (h, n) in enumerate(zip(hidden, names, strict=True)):
            if not self._outer(n):
                out.append(f"BIND({h} AS {n})")
            elif iris and iris[k]:
                out.append(f"FILTER({h} = {n})")
            else:
                out.append(f"FILTER({h} = {n} && STR({h}) = STR({n}) && isLiteral({h}) = isLiteral({n}))")
        return " ".join(out)

    def _nodes(self, s: str, o: str) -> str:
        """Every node of the active graph as (s, s): the zero-length pairs when neither end is given."""
        node, p1, x1, p2, x2 = self.var(), self.var(), self.var(), self.var(), self.var()
        names = [s] if s == o else [s, o]
        return (f"{{ {{ SELECT DISTINCT {node} WHERE {{ {{ {node} {p1} {x1} }} UNION {{ {x2} {p2} {node} }} }} }} "
                f"{self._bind([node] * len(names), names)} }}")


    def constant(self, text: str) -> ox.NamedNode:
        """A constant end of a path as a pyoxigraph term (an <IRI> or a prefixed name)."""
        if text.startswith("<") and text.endswith(">"):
            return ox.NamedNode(text[1:-1])
        prefix, sep, local = text.partition(":")
        if sep and prefix in self.prefixes and not text.startswith(("'", '"')):
            return ox.NamedNode(self.prefixes[prefix] + re.sub(r"\\(.)", r"\1", local))
        raise PathRefused(f"Virtuoso 7: a property path with * + or ? ending on {text} is not supported over "
                          "this store; write the end as an IRI or a variable")


def _reverse(succ: dict) -> dict:
    out: dict = {}
    for a, bs in succ.items():
        for b in bs:
            out.setdefault(b, set()).add(a)
    return out


def _reach(succ: dict, start, modifier: str) -> set:
    """The nodes one step or more (``+``, ``*``) or exactly one step (``?``) from ``start``."""
    if modifier == "?":
        return set(succ.get(start, ()))
    seen, todo = set(), deque(succ.get(start, ()))
    while todo:
        n = todo.popleft()
        if n not in seen:
            seen.add(n)
            todo.extend(succ.get(n, ()))
    return seen


_HELPER_NAME = re.compile(rf"^{HELPER}\d+_\d+$")
_DISTINCT_STAR = re.compile(r"\bSELECT\s+(?:DISTINCT|REDUCED)\s*\*", re.IGNORECASE)


def drop_helpers(data: dict, original: str) -> None:
    """A SELECT's JSON answer without the fresh variables of the rewrite (``SELECT *`` projects them),
    its rows made distinct again where the query asks for ``SELECT DISTINCT *``."""
    head = data.get("head", {})
    names = head.get("vars", [])
    hidden = {n for n in names if _HELPER_NAME.match(n) and f"?{n}" not in original and f"${n}" not in original}
    if not hidden:
        return
    head["vars"] = [n for n in names if n not in hidden]
    rows = [{k: v for k, v in row.items() if k not in hidden} for row in data.get("results", {}).get("bindings", [])]
    if _DISTINCT_STAR.search(original):
        import json

        seen, unique = set(), []
        for row in rows:
            key = json.dumps(row, sort_keys=True)
            if key not in seen:
                seen.add(key)
                unique.append(row)
        rows = unique
    data.setdefault("results", {})["bindings"] = rows


def rewrite_paths(sparql: str, select: Select) -> str:
    """``sparql`` with every ``*``/``+``/``?`` property path rewritten (unchanged if it has none)."""
    if not re.search(r"[*+?]", sparql):
        return sparql
    return Rewriter(sparql, select).run()
