"""One small adapter per kind of external SPARQL store: where its endpoints are, and how it deviates
from SPARQL 1.1 (each deviation measured on the real store by a test in tests/test_remote_dialects.py).

:func:`detect` picks the adapter from the URL's shape (``.../sparql`` on port 8890: Virtuoso; a base
URL whose ``/query`` answers: an Oxigraph server), else from one probe request, else the generic one.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from .generic import Generic
from .oxigraph_server import OxigraphServer
from .virtuoso import Virtuoso

DIALECTS = {d.name: d for d in (Generic, OxigraphServer, Virtuoso)}

__all__ = ["DIALECTS", "MERGE_GRAPH_IRI", "Generic", "OxigraphServer", "Virtuoso", "detect", "split_base"]


def split_base(url: str) -> tuple[str, str]:
    """(the URL without a trailing slash, its last path segment)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, "")), path.rsplit("/", 1)[-1]


def detect(url: str, probe=None):
    """The dialect class for ``url``. ``probe(url) -> response or None`` (one GET of the server's root)
    reads the store's ``Server`` header; without an answer the URL's shape decides (``/query``,
    ``/update``, ``/store``: Oxigraph server; ``/sparql`` on port 8890: Virtuoso), else SPARQL 1.1."""
    parts = urlsplit(url)
    if probe is not None:
        answer = probe(urlunsplit((parts.scheme, parts.netloc, "/", "", "")))
        if answer is not None:
            for dialect in (OxigraphServer, Virtuoso):
                if dialect.recognise(answer):
                    return dialect
    _, last = split_base(url)
    if last in ("query", "update", "store"):
        return OxigraphServer
    if last in ("sparql", "sparql-auth") and parts.port == 8890:
        return Virtuoso
    return Generic

MERGE_GRAPH_IRI = Generic.merge_graph  # the named graph holding explore-kg's default graph (not on Oxigraph)
