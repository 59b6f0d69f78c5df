"""A plain SPARQL 1.1 store (Fuseki, QLever, GraphDB, Stardog, Neptune...): query, update and Graph
Store endpoints as the protocol says; nothing assumed of its default graph.

The default graph of explore-kg's dataset is the RDF merge of its named graphs (as embedded, see
:meth:`explore_kg.loading.LoadedData.to_store`). A store's own default graph may be empty, the union of
every graph, or anything else, so ``push`` writes the merge into the named graph :data:`MERGE_GRAPH`
and every query names the dataset in the protocol: ``default-graph-uri`` = that graph,
``named-graph-uri`` = each of our graphs (unless the query or the client names its own dataset).
"""

from __future__ import annotations

import hashlib
import re

MERGE_GRAPH = "https://w3id.org/explore-kg/graph/merge"
_SAFE_BNODE = re.compile(r"^[A-Za-z0-9_]+$")


class Generic:
    name = "sparql11"
    title = "SPARQL 1.1 store"
    merge_graph: str | None = MERGE_GRAPH  # None: the store's own default graph holds the merge
    form_post = False  # True: POST queries as a form (the store does not take application/sparql-query)
    timeout_parameter: str | None = None  # the store's own per-query time limit parameter
    timeout_unit = 1.0  # seconds per unit of that parameter
    gsp_graph_parameter = "graph"
    system_graph_prefixes: tuple[str, ...] = ()

    def __init__(self, url: str, *, update_url: str | None = None, gsp_url: str | None = None):
        from . import split_base

        base, _ = split_base(url)
        self.query_url = self.derive_query_url(base)
        self.update_url = update_url or self.derive_update_url(base)
        self.gsp_url = gsp_url or self.derive_gsp_url(base)

    # -- endpoints --

    def derive_query_url(self, base: str) -> str:
        return base

    def derive_update_url(self, base: str) -> str:
        return self.query_url

    def derive_gsp_url(self, base: str) -> str | None:
        return None  # unknown: push uses SPARQL Update

    @staticmethod
    def recognise(response) -> bool:
        return False

    # -- queries --

    def dataset_parameters(self, graphs, default_graph_uris=(), named_graph_uris=(), has_dataset_clause=False):
        """The protocol's dataset parameters that make the store answer over explore-kg's dataset."""
        if default_graph_uris or named_graph_uris:
            return [("default-graph-uri", g) for g in default_graph_uris] + [
                ("named-graph-uri", g) for g in named_graph_uris]
        if has_dataset_clause or self.merge_graph is None:
            return []
        return [("default-graph-uri", self.merge_graph)] + [("named-graph-uri", g) for g in sorted(graphs)]

    def rewrite(self, sparql: str, select) -> str:
        """The query as this store answers it right (``select(text)``: rows of a SELECT in its dataset)."""
        return sparql

    def timeout_parameters(self, seconds: float | None) -> list[tuple[str, str]]:
        if not self.timeout_parameter or not seconds:
            return []
        return [(self.timeout_parameter, str(max(1, int(seconds / self.timeout_unit))))]

    def is_system_graph(self, iri: str) -> bool:
        return iri == self.merge_graph or iri.startswith(self.system_graph_prefixes)

    def fix_json_term(self, term: dict) -> dict:
        """A term of a SPARQL JSON result as SPARQL 1.1 writes it (blank node labels made valid)."""
        if term.get("type") == "bnode" and not _SAFE_BNODE.match(term.get("value", "")):
            term = dict(term, value="b" + hashlib.sha1(term["value"].encode()).hexdigest()[:16])
        elif term.get("type") == "typed-literal":  # SPARQL 1.0-era JSON (Virtuoso)
            term = dict(term, type="literal")
        return term

    def fix_answer(self, data: dict, original: str) -> None:
        """Take out of a SELECT's JSON answer what :meth:`rewrite` added to the ``original`` query."""

    def partial_answer(self, response) -> bool:
        """Whether the store cut its answer short at its own time limit (and says so)."""
        return False

    def gsp_target(self, graph: str | None) -> dict[str, str]:
        return {"default": ""} if graph is None else {self.gsp_graph_parameter: graph}
