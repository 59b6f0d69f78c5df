"""Released IRIs stay: every IRI of a shipped baseline list (``releases/iris.txt``, ``releases/terms.txt``)
must still be described, live or deprecated with a replacement that exists.

Others link to what we published; an IRI that vanished breaks their graphs silently. The way to retire
an entity or a term is the OBO one: keep its type and label and add ``owl:deprecated true`` and
``dcterms:isReplacedBy <successor>``; ``/id/...`` then answers 301 to the successor.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL

from .. import stable_iris
from .report import VIOLATION, WARNING, Result, curie, display_path

if TYPE_CHECKING:
    from .context import Context

# Which lists the check reads; tests point it at fixture lists.
BASELINES: list[Path] = stable_iris.baselines()

_HOW = ("keep it, with its rdf:type and rdfs:label, as <{iri}> owl:deprecated true ; dcterms:isReplacedBy "
        "<the IRI that replaces it> . (see README, \"Stable IRIs\")")


def is_deprecated(graph, node: URIRef) -> bool:
    return any(isinstance(v, Literal) and v.toPython() is True for v in graph.objects(node, OWL.deprecated))


def released_iris_kept(ctx: Context) -> Iterable[Result]:
    """``iri-removed``, ``replacement-missing`` and ``deprecated-without-replacement``, per listed IRI."""
    g = ctx.graph
    for baseline in BASELINES:
        for number, iri in stable_iris.read_list(baseline):
            node = URIRef(iri)
            if ctx.scope is not None and node not in ctx.scope:
                continue  # (the write gate: only the IRIs a change touches can have lost their description)
            if node not in ctx.described:
                where = ctx.locator.locate_node(node) or {"file": display_path(baseline), "line": number}
                still = " (still referenced here)" if where.get("file") != display_path(baseline) else ""
                yield Result("iri-removed", VIOLATION,
                             f"{curie(node)} was released ({display_path(baseline)}:{number}) but is no longer "
                             f"described anywhere{still}: links to it would break.",
                             focus=iri, hint="Do not delete a released IRI: " + _HOW.format(iri=iri), **where)
                continue
            if not is_deprecated(g, node):
                continue
            replacements = list(g.objects(node, DCTERMS.isReplacedBy))
            for new in replacements:
                if not isinstance(new, URIRef) or new not in ctx.described:
                    yield ctx.result("replacement-missing",
                                     f"{curie(node)} is deprecated in favour of {curie(new)}, which is not described "
                                     "anywhere.", f"Point dcterms:isReplacedBy at an IRI the graph describes, or "
                                     f"describe {curie(new)}.", node, DCTERMS.isReplacedBy, new)
            if not replacements:
                yield ctx.result("deprecated-without-replacement",
                                 f"{curie(node)} is deprecated without dcterms:isReplacedBy: its page says so, but "
                                 "links to it lead nowhere.",
                                 "Add dcterms:isReplacedBy <successor> if something replaces it; otherwise say why in "
                                 "an rdfs:comment and keep this warning.", node, OWL.deprecated,
                                 next(iter(g.objects(node, OWL.deprecated))), severity=WARNING)
