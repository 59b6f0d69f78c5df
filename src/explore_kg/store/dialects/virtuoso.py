"""Virtuoso Open Source 7: ``/sparql`` (queries; updates need ``/sparql-auth`` with digest credentials,
or the SPARQL user granted SPARQL_UPDATE), ``/sparql-graph-crud[-auth]`` (Graph Store Protocol).

Deviations, each shown on a real Virtuoso by tests/test_remote_dialects.py:

* its default graph is the union of *every* graph, its own system graphs included
  (``http://www.openlinksw.com/schemas/virtrdf#``, ``http://www.w3.org/ns/ldp#``,
  ``http://localuriqaserver/sparql``...): queries always name explore-kg's dataset in the protocol,
  and those graphs are never listed as ours;
* a POST with ``Content-Type: application/sparql-query`` is not answered (the request hangs until
  the client gives up): queries are POSTed as a form;
* its ASK JSON has ``"head": {"link": []}`` and no ``vars``, and its SELECT JSON says
  ``"typed-literal"`` (SPARQL 1.0 JSON): read by our parser, written back as SPARQL 1.1;
* it stores ``xsd:boolean`` as 1 / 0 and answers ``"1"^^xsd:boolean``: written back as the canonical
  ``true`` / ``false``;
* blank nodes come back labelled ``nodeID://b10006`` (not a valid blank node label): relabelled;
* ``ResultSetMaxRows`` in its virtuoso.ini silently truncates large answers (default 10000 rows):
  raise it for large data (docs/stores.md).
* its SPARQL engine answers property paths, VALUES, boolean expressions and some FILTERs otherwise
  than SPARQL says: :meth:`Virtuoso.rewrite` rewrites every query it is sent into one it answers right
  (:mod:`.virtuoso_paths`, :mod:`.virtuoso_booleans`, :mod:`.virtuoso_filters`; docs/stores.md).

Its per-query time limit is the ``timeout`` parameter, in milliseconds (passed with our deadline). At
that limit it sends what it has found so far as if complete ("anytime query"), saying so only in the
header ``X-SQL-State: S1TAT``: that answer is refused (504), never passed on as the result.
"""

from __future__ import annotations

from .generic import Generic
from .virtuoso_booleans import cast_booleans
from .virtuoso_filters import filters_last, plain_sameterm
from .virtuoso_paths import drop_helpers, rewrite_paths

XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


class Virtuoso(Generic):
    name = "virtuoso"
    title = "Virtuoso 7"
    form_post = True
    timeout_parameter = "timeout"
    timeout_unit = 0.001
    system_graph_prefixes = ("http://www.openlinksw.com/", "http://www.w3.org/ns/ldp#", "http://localuriqaserver/",
                             "http://localhost:8890/", "http://www.w3.org/2002/07/owl",
                             "urn:activitystreams-owl:map", "urn:rules.skos", "virtrdf:")

    def __init__(self, url: str, *, update_url: str | None = None, gsp_url: str | None = None, authenticated=False):
        self.authenticated = authenticated
        super().__init__(url, update_url=update_url, gsp_url=gsp_url)

    def derive_query_url(self, base: str) -> str:
        self._root = base.rsplit("/", 1)[0] if base.endswith(("/sparql", "/sparql-auth")) else base
        return self._root + "/sparql"

    def derive_update_url(self, base: str) -> str:
        return self._root + ("/sparql-auth" if self.authenticated else "/sparql")

    def derive_gsp_url(self, base: str) -> str:
        return self._root + ("/sparql-graph-crud-auth" if self.authenticated else "/sparql-graph-crud")

    @staticmethod
    def recognise(response) -> bool:
        return "virtuoso" in response.headers.get("server", "").lower()  # "Virtuoso/07.20.3229 (Linux) ..."

    def rewrite(self, sparql: str, select) -> str:
        """Its ``*`` / ``+`` / ``?`` property paths rewritten (:mod:`.virtuoso_paths`) and its boolean
        expressions cast (:mod:`.virtuoso_booleans`), its FILTERs after its BINDs and its ``sameTerm(?v, <iri>)`` written out (:mod:`.virtuoso_filters`)."""
        return plain_sameterm(filters_last(cast_booleans(rewrite_paths(sparql, select))))

    def fix_answer(self, data: dict, original: str) -> None:
        drop_helpers(data, original)

    def partial_answer(self, response) -> bool:
        return response.headers.get("x-sql-state", "").upper() == "S1TAT"

    def fix_json_term(self, term: dict) -> dict:
        term = super().fix_json_term(term)
        if term.get("datatype") == XSD_BOOLEAN and term.get("value") in ("1", "0"):
            term = dict(term, value="true" if term["value"] == "1" else "false")
        return term
