"""Oxigraph server (``oxigraph serve``): ``/query``, ``/update``, ``/store`` (Graph Store Protocol).

Deviation: its default graph is the store's own default graph, *not* the union of the named graphs
(unless a query passes ``union-default-graph`` or the server runs with ``--union-default-graph``,
which would give one solution per graph stating a triple, not the merge). So ``push`` writes the merge
of the named graphs into the default graph itself, as the embedded store holds it, and queries need
no dataset parameters: the store's default graph then is explore-kg's.
"""

from __future__ import annotations

from .generic import Generic


class OxigraphServer(Generic):
    name = "oxigraph"
    title = "Oxigraph server"
    merge_graph = None

    def derive_query_url(self, base: str) -> str:
        root = base.rsplit("/", 1)[0] if base.endswith(("/query", "/update", "/store")) else base
        self._root = root
        return root + "/query"

    def derive_update_url(self, base: str) -> str:
        return self._root + "/update"

    def derive_gsp_url(self, base: str) -> str:
        return self._root + "/store"

    @staticmethod
    def recognise(response) -> bool:
        return "oxigraph" in response.headers.get("server", "").lower()  # "Oxigraph/0.5.13"
