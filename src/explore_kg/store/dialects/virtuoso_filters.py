"""Two ways Virtuoso 7 loses a FILTER, both measured (tests/test_remote_dialects.py), both undone here
by a rewrite that SPARQL's semantics say changes nothing:

* it drops a FILTER that a BIND follows in the same group: ``{ GRAPH ?g { ?s ?p ?o } FILTER(sameTerm(?s,
  <x>)) BIND(?p AS ?q) }`` answers every ?s. A FILTER constrains its whole group wherever it stands, so
  :func:`filters_last` moves it to the group's end (only where a BIND follows it);
* ``sameTerm(?v, <iri>)`` (as a saved query's parameter becomes, see
  :func:`explore_kg.store.remote.substitute`) is made an equivalence by its optimizer, which inside a
  UNION branch with a GRAPH binds ?v to the IRI in the answer without constraining the pattern (rows of
  other subjects come back labelled <iri>); ``?v = <iri>`` fails to compile there ("equiv replaces
  filter but under deprecation"), and so does ``STR(?v) = "iri"``. :func:`plain_sameterm` writes it
  ``(isIRI(?v) && STR(?v) = STR(<iri>))``, the same test, which it evaluates as written (an index
  lookup less: a filter over the pattern).
"""

from __future__ import annotations

import re

from .virtuoso_paths import Tok, _tokens


def filters_last(sparql: str) -> str:
    """``sparql`` with each group's FILTERs moved after its BINDs (where a BIND follows a FILTER)."""
    if "BIND" not in sparql.upper() or "FILTER" not in sparql.upper():
        return sparql
    toks = _tokens(sparql)
    moves: list[tuple[int, int, int]] = []  # (filter start, filter end, where to put it) as offsets
    stack: list[dict] = []
    k = 0
    while k < len(toks):
        t = toks[k]
        if t.text == "{":
            stack.append({"filters": [], "bind_after": False})
        elif t.text == "}" and stack:
            group = stack.pop()
            if group["bind_after"]:
                moves += [(s, e, t.start) for s, e in group["filters"]]
        elif t.kind == "word" and stack:
            word = t.text.upper()
            if word == "FILTER":
                end = _filter_end(toks, k + 1)
                stack[-1]["filters"].append((t.start, toks[end - 1].end))  # (its EXISTS groups: walked on)
            if word == "BIND" and stack[-1]["filters"]:
                stack[-1]["bind_after"] = True
        k += 1
    # a move inside a FILTER that moves itself is made by the recursive call below
    moves = [m for m in moves if not any(o[0] <= m[0] and m[1] <= o[1] and o != m for o in moves)]
    if not moves:
        return sparql
    edits = []
    for start, end, at in moves:
        edits += [(start, end, ""), (at, at, " " + filters_last(sparql[start:end]) + " ")]
    out, last = [], 0
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1])):
        out += [sparql[last:start], text]
        last = end
    return "".join(out) + sparql[last:]


_SAMETERM = re.compile(r"""\bsameTerm\s*\(\s*(?:([?$]\w+)\s*,\s*<([^<>"{}|^`\\\s]*)>|<([^<>"{}|^`\\\s]*)>\s*,\s*([?$]\w+))\s*\)""",
                       re.IGNORECASE)


def plain_sameterm(sparql: str) -> str:
    """``sameTerm(?v, <iri>)`` (either order) written ``(isIRI(?v) && STR(?v) = STR(<iri>))``, outside strings."""
    if "sameterm" not in sparql.lower():
        return sparql
    out, last = [], 0
    for t in _tokens(sparql):
        if t.kind != "word" or t.text.lower() != "sameterm":
            continue
        m = _SAMETERM.match(sparql, t.start)
        if m is None:
            continue
        var, iri = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        out += [sparql[last:m.start()], f"(isIRI({var}) && STR({var}) = STR(<{iri}>))"]
        last = m.end()
    return "".join(out) + sparql[last:]


def _filter_end(toks: list[Tok], k: int) -> int:
    """The token index just after the FILTER expression starting at k."""
    while k < len(toks) and toks[k].kind == "word" and toks[k].text.upper() in ("NOT", "EXISTS"):
        k += 1
    if k < len(toks) and toks[k].kind in ("iri", "pname", "word") and toks[k].text != "(":
        k += 1  # a function name
    if k >= len(toks):
        return k
    opening = toks[k].text
    if opening not in ("(", "{"):
        return k + 1
    closing = ")" if opening == "(" else "}"
    depth = 0
    for j in range(k, len(toks)):
        if toks[j].text in ("(", "{"):
            depth += 1
        elif toks[j].text in (")", "}"):
            depth -= 1
            if depth == 0 and toks[j].text == closing:
                return j + 1
    return len(toks)
