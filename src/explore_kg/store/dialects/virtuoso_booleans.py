"""Virtuoso 7 answers a boolean *expression* as an integer: ``BIND(false AS ?x)``, ``BIND(?a = ?b AS ?x)``,
``BIND(EXISTS {...} AS ?x)``, ``BIND(!BOUND(?y) AS ?x)`` give ``0`` / ``1`` (``xsd:integer``), where
SPARQL gives ``false`` / ``true`` (``xsd:boolean``). Measured; the answer cannot be repaired afterwards
(an integer 0 may be meant), so the query is: each ``(expression AS ?var)`` (BIND, a SELECT or GROUP
BY projection) whose value is boolean is cast ``xsd:boolean(...)``, which Virtuoso answers with a
boolean (``"1"^^xsd:boolean``, made ``true`` by :meth:`Virtuoso.fix_json_term`). The cast of a boolean
is the boolean itself and an error stays an error, so the answer is SPARQL's. ``IF`` and ``COALESCE``
are looked into: only their boolean branches are cast.
"""

from __future__ import annotations

from .virtuoso_paths import Tok, _tokens

XSD_BOOLEAN_CAST = "<http://www.w3.org/2001/XMLSchema#boolean>"
_BOOLEAN_CALLS = {"BOUND", "EXISTS", "NOT", "SAMETERM", "ISIRI", "ISURI", "ISBLANK", "ISLITERAL", "ISNUMERIC",
                  "REGEX", "CONTAINS", "STRSTARTS", "STRENDS", "LANGMATCHES"}
_OPERATORS = {"=", "<", ">", "&", "|", "!"}


def cast_booleans(sparql: str) -> str:
    """``sparql`` with every boolean ``(expression AS ?var)`` cast to xsd:boolean."""
    if " AS " not in sparql.upper().replace("\n", " ").replace("\t", " "):
        return sparql
    toks = _tokens(sparql)
    edits: list[tuple[int, int, str]] = []
    for k, t in enumerate(toks):
        if not (t.kind == "word" and t.text.upper() == "AS" and k + 1 < len(toks) and toks[k + 1].kind == "var"):
            continue
        start = _open_before(toks, k)
        if start is None or start + 1 >= k:
            continue
        body = toks[start + 1:k]
        text = _fix(sparql, body)
        original = sparql[body[0].start:body[-1].end]
        if text != original:
            edits.append((body[0].start, body[-1].end, text))
    out, last = [], 0
    for s, e, text in sorted(edits):
        if s < last:  # (nested: the outer edit already covers it)
            continue
        out += [sparql[last:s], text]
        last = e
    return "".join(out) + sparql[last:]


def _open_before(toks: list[Tok], k: int) -> int | None:
    depth = 0
    for j in range(k - 1, -1, -1):
        text = toks[j].text
        if text in (")", "}", "]"):
            depth += 1
        elif text in ("(", "{", "["):
            if depth == 0:
                return j if text == "(" else None
            depth -= 1
    return None


def _closing(toks: list[Tok], i: int) -> int:
    depth = 0
    for j in range(i, len(toks)):
        depth += {"(": 1, ")": -1, "{": 1, "}": -1}.get(toks[j].text, 0)
        if depth == 0:
            return j
    return len(toks) - 1


def _fix(sparql: str, body: list[Tok]) -> str:
    text = sparql[body[0].start:body[-1].end]
    while body[0].text == "(" and _closing(body, 0) == len(body) - 1 and len(body) > 2:
        body = body[1:-1]
    first = body[0]
    if first.kind == "word" and first.text.upper() in ("IF", "COALESCE") and len(body) > 2 and body[1].text == "(" \
            and _closing(body, 1) == len(body) - 1:
        args = _split_args(body[2:-1])
        fixed = [_fix(sparql, a) if a and (first.text.upper() == "COALESCE" or n > 0) else _span(sparql, a)
                 for n, a in enumerate(args)]
        return f"{first.text}({', '.join(fixed)})"
    if _is_boolean(body):
        return f"{XSD_BOOLEAN_CAST}({text})"
    return text


def _span(sparql: str, toks: list[Tok]) -> str:
    return sparql[toks[0].start:toks[-1].end] if toks else ""


def _split_args(toks: list[Tok]) -> list[list[Tok]]:
    args, current, depth = [], [], 0
    for t in toks:
        if t.text in ("(", "{", "["):
            depth += 1
        elif t.text in (")", "}", "]"):
            depth -= 1
        if t.text == "," and depth == 0:
            args.append(current)
            current = []
        else:
            current.append(t)
    args.append(current)
    return args


def _is_boolean(body: list[Tok]) -> bool:
    """Whether the expression's value is a boolean: a comparison, a logical operator, a boolean builtin
    call or the literal true/false at its top level."""
    if len(body) == 1:
        return body[0].kind == "word" and body[0].text.lower() in ("true", "false")
    first = body[0]
    if first.kind == "word" and first.text.upper() in _BOOLEAN_CALLS:
        if first.text.upper() in ("EXISTS", "NOT"):
            rest = body[2:] if first.text.upper() == "NOT" else body[1:]
            if rest and rest[0].text == "{" and _closing(rest, 0) == len(rest) - 1:
                return True
        elif body[1].text == "(" and _closing(body, 1) == len(body) - 1:
            return True
    depth = 0
    for t in body:
        if t.text in ("(", "{", "["):
            depth += 1
        elif t.text in (")", "}", "]"):
            depth -= 1
        elif depth == 0 and (t.kind == "other" and t.text in _OPERATORS
                             or t.kind == "word" and t.text.upper() in ("IN", "NOT")):
            return True
    return False
