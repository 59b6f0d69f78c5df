"""Virtuoso 7 drops a FILTER that a BIND follows in the same group: ``{ GRAPH ?g { ?s ?p ?o }
FILTER(sameTerm(?s, <x>)) BIND(?p AS ?q) }`` answers every ?s (measured; without the BIND it is right).

In SPARQL a FILTER constrains its whole group wherever it stands in it, so moving it to the group's
end changes nothing; Virtuoso then answers right. :func:`filters_last` does that for each group where a
BIND comes after a FILTER, and leaves every other group as it is.
"""

from __future__ import annotations

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
