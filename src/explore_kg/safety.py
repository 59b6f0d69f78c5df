"""What a query may ask of the endpoint, decided before it reaches the store.

pyoxigraph 0.5 does not expose its parsed query algebra, and its evaluator *does* make HTTP requests
for ``SERVICE``. So this module scans the query text with a small SPARQL tokenizer (comments, strings
and IRIs are skipped as whole tokens, so ``# SERVICE`` or ``"SERVICE"`` are not mistaken for the
keyword) and refuses, with a plain message:

* update operations (``INSERT``, ``DELETE``, ``LOAD``, ``CLEAR``...): the endpoint is read-only;
* ``SERVICE`` (federation would make the server fetch a URL a stranger chose), unless the operator
  allowed remote access;
* ``FROM`` / ``FROM NAMED`` naming a graph that is not in the store (the server never fetches graphs);
* query text over the size limit, and nesting deeper than any real query needs (deep nesting
  overflows the native parser's stack).

The error classes live here so the engine, the server and this scanner share one vocabulary; the
engine re-exports them (``explore_kg.engine.QueryError`` ...).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import urljoin

DEFAULT_MAX_QUERY_BYTES = 64 * 1024
DEFAULT_MAX_DEPTH = 256


class QueryError(Exception):
    """A query the engine will not or could not answer; ``.message`` is plain text for a person."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class QuerySyntaxError(QueryError):
    """The query does not parse; the message carries the parser's line and column."""

    status = 400


class QueryRefused(QueryError):
    """A well-formed query this endpoint will not run (update, SERVICE, a graph it would have to fetch)."""

    status = 400


class QueryTimeout(QueryError):
    """The query did not finish within the time limit (no partial answer is ever sent)."""

    status = 503


class QueryTooLarge(QueryError):
    """The query text, its nesting, or its result is larger than the configured bound."""

    status = 413


class NotAcceptable(QueryError):
    """No result format for this kind of query satisfies the client's Accept header."""

    status = 406


class QueryFailed(QueryError):
    """The engine failed while evaluating a well-formed query (for example a crashed worker)."""

    status = 500


def error_class(name: str) -> type[QueryError]:
    """The error class a child process names in its reply (it sends the name, not a pickled exception)."""
    cls = globals().get(name)
    return cls if isinstance(cls, type) and issubclass(cls, QueryError) else QueryError


# The token kinds, tried left to right at each position: the first that matches wins.
_TOKEN_KINDS = (
    ("ws", r"\s+"),
    ("comment", r"\#[^\n\r]*"),
    ("string", r"""'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|"""
               r"""'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*\""""),
    ("iri", r"""<[^<>"{}|^`\\\x00-\x20]*>"""),
    ("var", r"[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+"),
    ("pname", r"(?:[A-Za-z\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*)?:(?:[\w\-:%\u00b7\u00c0-\uffff]|\\.|\.(?=[\w\-:%\u00c0-\uffff]))*"),
    ("word", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("open", r"[{(\[]"),
    ("close", r"[})\]]"),
    ("other", r"."),
)


@functools.cache
def token_pattern() -> re.Pattern:
    """The tokenizer: one named group per kind. Compiled on first use, not at import: its Unicode classes
    take 50-150 ms to compile, which every query worker paid at start for queries it may never scan."""
    return re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _TOKEN_KINDS), re.VERBOSE | re.DOTALL)


UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"})
QUERY_FORMS = {"SELECT": "bindings", "ASK": "boolean", "CONSTRUCT": "graph", "DESCRIBE": "graph"}


@dataclass
class QueryInfo:
    """What the scan learned: the query form and the dataset clauses it names."""

    form: str | None = None  # SELECT / ASK / CONSTRUCT / DESCRIBE, or None if the text does not say
    kind: str | None = None  # bindings / boolean / graph
    from_graphs: list[str] = field(default_factory=list)
    from_named_graphs: list[str] = field(default_factory=list)
    depth: int = 0

    @property
    def has_dataset_clause(self) -> bool:
        return bool(self.from_graphs or self.from_named_graphs)


def tokens(text: str):
    """(kind, text) pairs of the query, without whitespace and comments."""
    for m in token_pattern().finditer(text):
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            yield kind, m.group()


def where_group_start(text: str) -> int | None:
    """Offset just inside the ``{`` that opens the query's WHERE pattern (None if not found).

    The WHERE keyword is optional: without it, the pattern is the first top-level group of a
    SELECT/ASK/DESCRIBE and the second of a CONSTRUCT (whose first is the template).
    """
    depth, groups, form = 0, 0, None
    after_where = False
    for m in token_pattern().finditer(text):
        kind, value = m.lastgroup, m.group()
        if kind == "word" and depth == 0:
            word = value.upper()
            if form is None and word in QUERY_FORMS:
                form = word
            elif word == "WHERE":
                after_where = True
        elif kind == "open":
            if value == "{" and depth == 0 and form is not None:
                groups += 1
                if after_where or form != "CONSTRUCT" or groups == 2:
                    return m.end()
            depth += 1
        elif kind == "close":
            depth -= 1
    return None


def _expand(kind: str, value: str, prefixes: dict[str, str], base: str | None) -> str | None:
    if kind == "iri":
        iri = value[1:-1]
        return urljoin(base, iri) if base and not re.match(r"^[A-Za-z][\w+.-]*:", iri) else iri
    if kind == "pname":
        prefix, _, local = value.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
    return None


def scan(text: str) -> tuple[QueryInfo, list[str], list[str]]:
    """Tokenize once: the query info, the update keywords found, the SERVICE/LOAD mentions."""
    info = QueryInfo()
    prefixes: dict[str, str] = {}
    base: str | None = None
    updates: list[str] = []
    remote: list[str] = []
    toks = list(tokens(text))
    depth = 0
    i = 0
    while i < len(toks):
        kind, value = toks[i]
        if kind == "open":
            depth += 1
            info.depth = max(info.depth, depth)
        elif kind == "close":
            depth -= 1
        elif kind == "pname" and _glued_service(value):
            remote.append("SERVICE")
        elif kind == "word":
            word = value.upper()
            if word == "PREFIX" and i + 2 < len(toks) and toks[i + 1][0] == "pname" and toks[i + 2][0] == "iri":
                prefixes[toks[i + 1][1].rstrip(":").partition(":")[0]] = _expand("iri", toks[i + 2][1], {}, base) or ""
                i += 3
                continue
            if word == "BASE" and i + 1 < len(toks) and toks[i + 1][0] == "iri":
                base = _expand("iri", toks[i + 1][1], {}, base)
                i += 2
                continue
            if info.form is None and word in QUERY_FORMS and not updates:
                info.form, info.kind = word, QUERY_FORMS[word]
            elif info.form is None and word in UPDATE_KEYWORDS and depth == 0:
                updates.append(word)
            if word in ("SERVICE", "LOAD"):
                remote.append(word)
            elif "SERVICE" in word:  # glued to what precedes or follows (1SERVICE, SERVICESILENT): see _glued_service
                remote.append("SERVICE")
            if word in ("FROM", "FROMNAMED") and i + 1 < len(toks):
                # Oxigraph also reads FROMNAMED, with no space, as FROM NAMED
                spaced = toks[i + 1][0] == "word" and toks[i + 1][1].upper() == "NAMED"
                named = word == "FROMNAMED" or spaced
                j = i + 2 if spaced else i + 1
                if j < len(toks):
                    iri = _expand(*toks[j], prefixes, base)
                    if iri is not None:
                        (info.from_named_graphs if named else info.from_graphs).append(iri)
        i += 1
    return info, updates, remote


def _glued_service(pname: str) -> bool:
    """Whether a prefixed name's prefix holds SERVICE: Oxigraph reads ``SERVICEex:a { }`` (no space) as
    ``SERVICE ex:a { }``, and a word glued in front (``trueSERVICEex:a``) may be read apart too."""
    return "SERVICE" in pname.partition(":")[0].upper()


# The quick path. The full scan refuses only on: a word token that is a refused keyword (or holds
# SERVICE), a prefixed name whose prefix holds SERVICE, nesting deeper than the limit, or what
# codepoint escapes hide. A query without "SERVICE" anywhere (as a substring, in any case), without
# escapes, with fewer brackets than the depth limit and with no word token among _REFUSED_WORDS can
# be refused by none of these, so it passes without the scan. The keywords often occur in comments
# ("# missions from ... with ..."): _word_tokens() then splits the text exactly as token_pattern() does
# (the same alternatives in the same order, in one C-level findall) and captures only the words.
_KEYWORD_ANYWHERE = re.compile("SERVICE|LOAD|FROM|INSERT|DELETE|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH")
_REFUSED_WORDS = UPDATE_KEYWORDS | {"SERVICE", "LOAD", "FROM", "FROMNAMED"}


@functools.cache
def _word_tokens() -> re.Pattern:
    return re.compile(
        "|".join(f"({pattern})" if kind == "word" else f"(?:{pattern})" for kind, pattern in _TOKEN_KINDS),
        re.VERBOSE | re.DOTALL,
    )


def _nothing_to_refuse(text: str, max_depth: int) -> bool:
    """True when the full scan could not refuse ``text`` (see above); False means: run it."""
    if "\\u" in text or "\\U" in text:
        return False
    upper = text.upper()  # as the scan compares (str.upper maps character by character)
    if "SERVICE" in upper or text.count("{") + text.count("(") + text.count("[") > max_depth:
        return False
    if not _KEYWORD_ANYWHERE.search(upper):
        return True
    return not any(word and word.upper() in _REFUSED_WORDS for word in _word_tokens().findall(text))


_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescape_codepoints(text: str) -> str:
    """SPARQL 1.1 (19.2) lets \\uXXXX stand for any character *before* parsing; read them as a parser might."""
    return _CODEPOINT_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)) if int(m.group(1) or m.group(2), 16) < 0x110000 else "", text)


def check_query(
    text: str,
    *,
    known_graphs: Collection[str] | None = None,
    allow_remote: bool = False,
    max_bytes: int | None = DEFAULT_MAX_QUERY_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    dataset_uris: Collection[str] = (),
) -> QueryInfo:
    """Refuse what the endpoint must not run; return what the scan learned about the query.

    ``known_graphs`` are the named graphs of the store: FROM / FROM NAMED and the protocol's
    ``default-graph-uri`` / ``named-graph-uri`` (``dataset_uris``) may only name those
    (None: do not check). ``allow_remote`` lets SERVICE through (an operator's explicit choice).
    The returned info's ``form``/``kind`` are None when the quick path decided (nothing to refuse).
    """
    if max_bytes is not None and len(text) * 4 > max_bytes:  # only then can the UTF-8 form be too long
        size = len(text.encode("utf-8"))
        if size > max_bytes:
            raise QueryTooLarge(f"query text is {size} bytes; this endpoint accepts at most {max_bytes} bytes")
    _check_dataset(dataset_uris, known_graphs, allow_remote)
    if _nothing_to_refuse(text, max_depth):
        return QueryInfo()
    escaped = "\\u" in text or "\\U" in text
    info, updates, remote = scan(text)
    if escaped:  # refuse what either reading shows
        unescaped_info, more_updates, more_remote = scan(_unescape_codepoints(text))
        updates, remote = updates + more_updates, remote + more_remote
        info.depth = max(info.depth, unescaped_info.depth)
        info.from_graphs += unescaped_info.from_graphs
        info.from_named_graphs += unescaped_info.from_named_graphs
    if info.depth > max_depth:
        err = QueryTooLarge(
            f"query is nested {info.depth} levels deep; this endpoint accepts at most {max_depth} levels"
        )
        err.status = 400
        raise err
    if updates:
        raise QueryRefused(
            f"SPARQL Update ({updates[0]}) is not accepted: this endpoint is read-only and answers queries only"
        )
    if "LOAD" in remote:
        raise QueryRefused("LOAD is an update operation: this endpoint is read-only")
    if "SERVICE" in remote and not allow_remote:
        raise QueryRefused(
            "SERVICE is refused: this endpoint never fetches data from other endpoints "
            "(an operator can allow it with --allow-remote)"
        )
    _check_dataset([*info.from_graphs, *info.from_named_graphs], known_graphs, allow_remote)
    return info


def _check_dataset(iris: Collection[str], known_graphs: Collection[str] | None, allow_remote: bool) -> None:
    if known_graphs is None or allow_remote:
        return
    for iri in iris:
        if iri not in known_graphs:
            raise QueryRefused(
                f"graph <{iri}> is not in this dataset, and this endpoint never fetches graphs "
                "named by a query; use FROM / FROM NAMED / GRAPH with a graph listed in the service description"
            )
