"""What an entity page shows: its facts grouped by property, the facts about it read from its side, and its claims.

:func:`describe` turns the rows of :data:`explore_kg.web.FACTS` into property groups with their sources;
:func:`claims_of` the rows of :data:`CLAIMS` into each claim's value, qualifier, precision, bounds and source;
:func:`history_of` a writable server's change log into each fact's changes (:mod:`explore_kg.history`).
:mod:`explore_kg.web` routes to it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .labels import NAME_PROPERTIES
from .namespaces import (
    EKG,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    WD,
    compact,
)
from .web import (  # the pages' shared parts
    DEFINITION_PROPERTIES,
    DERIVED_GRAPHS,
    ENTAILED_GRAPH,
    EXACT_MATCH,
    RDF_TYPE,
    Labels,
    Shown,
    href,
    show,
)


@dataclass
class PropertyGroup:
    prop: Shown
    values: list[Shown]
    inverse: bool = False  # read from the entity's side: "unit: ISAS" on JAXA's page for "ISAS parent organisation JAXA"


# How a fact whose value is the page's entity reads from the entity's side, where the ontology declares no
# owl:inverseOf: "ISAS parent organisation JAXA" is "unit: ISAS" on JAXA's page, never "parent organisation".
INVERSE_LABELS = {
    **{str(EKG[local]): label for local, label in {
        "parentOrganisation": "unit", "partOf": "has part", "inOrganisation": "position", "holder": "holds",
        "member": "member of", "party": "party to", "signatory": "signed", "participant": "takes part in",
        "leadAgency": "leads", "operator": "operates", "developer": "developed", "host": "hosted",
        "contributor": "contribution", "contributesTo": "contribution", "speaker": "spoke at",
        "concerns": "discussed in", "isAbout": "subject of", "mentions": "mentioned in",
        "statedIn": "describes", "locatedIn": "contains", "location": "location of", "onBody": "site on it",
        "satelliteOf": "satellite", "hostsInstrument": "hosted on", "instrument": "instrument of",
        "spacecraft": "spacecraft of", "launchVehicle": "launch vehicle of", "target": "target of",
        "objective": "objective of", "outcome": "outcome of", "usesTechnology": "technology used by",
        "usesTechnologyFrom": "technology used by", "usesDataFrom": "data used by",
        "collaboratesWith": "collaborates with", "wroteFor": "writer", "motivatedBy": "motivates",
        "demonstrates": "demonstrated by", "providedItem": "provided in", "headquarters": "headquarters of",
        "basedIn": "base of", "country": "country of", "declaredAt": "place of declaring",
        "signingPlace": "place of signing", "approvalExpectedAt": "approval expected for",
        "participantsFrom": "sent participants to", "precursorOf": "builds on", "claim": "claim subject",
        "claimSubject": "claim",
    }.items()},
    RDF_TYPE: "instance",
    "http://www.w3.org/2000/01/rdf-schema#subClassOf": "superclass of",
    "http://www.w3.org/2000/01/rdf-schema#subPropertyOf": "superproperty of",
    "http://www.w3.org/2000/01/rdf-schema#isDefinedBy": "defines",
    "http://www.w3.org/2004/02/skos/core#broader": "narrower",
    "http://www.w3.org/2004/02/skos/core#narrower": "broader",
    "http://www.w3.org/2004/02/skos/core#inScheme": "concept",
    "http://www.w3.org/2004/02/skos/core#topConceptOf": "top concept",
    "http://www.w3.org/2004/02/skos/core#hasTopConcept": "top concept of",
    "http://purl.org/dc/terms/publisher": "publisher of",
    "http://purl.org/dc/terms/creator": "creator of",
}
_TRAILING_PREPOSITION = re.compile(r"\b(of|to|at|in|from|by|with|for|on|into)$", re.I)


def inverse_label(p: str, labels: Labels, inverses: Mapping[str, str]) -> str:
    """What "(thing) p (this)" is called from this side: the owl:inverseOf's label, our table, or "p of"."""
    if p in inverses:
        return labels(inverses[p])
    if p in INVERSE_LABELS:
        return INVERSE_LABELS[p]
    label = labels(p)
    if ":" in label or _TRAILING_PREPOSITION.search(label):
        return f"← {label}"  # no readable inverse: say the direction
    return f"{label} of"


def inverse_index(quads: Any) -> dict[str, str]:
    """{property: its inverse} from every owl:inverseOf in the loaded data, both ways."""
    inverse_of = "http://www.w3.org/2002/07/owl#inverseOf"
    found: dict[str, str] = {}
    for q in quads.with_predicates([inverse_of]) if hasattr(quads, "with_predicates") else quads:
        if q.predicate.value == inverse_of and hasattr(q.object, "value") and hasattr(q.subject, "value"):
            found.setdefault(q.subject.value, q.object.value)
            found.setdefault(q.object.value, q.subject.value)
    return found


@dataclass
class ClaimShown:
    """One ekg:Claim about a value: its qualifier, precision, bounds and the source that states it."""

    iri: str
    href: str | None
    qualifiers: list[Shown] = field(default_factory=list)
    precision: Shown | None = None
    earliest: str | None = None
    latest: str | None = None
    sources: list[Shown] = field(default_factory=list)
    basis: list[Shown] = field(default_factory=list)
    derived_from: list[Shown] = field(default_factory=list)
    comment: str | None = None
    prop: str | None = None
    value: dict | None = None

    @property
    def bounds(self) -> str | None:
        if self.earliest and self.latest:
            return self.earliest if self.earliest == self.latest else f"{self.earliest} to {self.latest}"
        return self.earliest or self.latest


CLAIMS = """
SELECT DISTINCT ?claim ?p ?v WHERE {
  { ?entity ekg:claim ?claim } UNION { ?claim ekg:claimSubject ?entity }
  ?claim ?p ?v .
}"""


def claims_of(rows: Sequence[Mapping[str, Any]], labels: Labels) -> list[ClaimShown]:
    """The claims about an entity from CLAIMS rows, in IRI order."""
    found: dict[str, ClaimShown] = {}
    for row in rows:
        iri, p, v = row["claim"]["value"], row["p"]["value"], row["v"]
        c = found.setdefault(iri, ClaimShown(iri, href(iri)))
        local = p[len(str(EKG)):] if p.startswith(str(EKG)) else p
        if local == "claimProperty":
            c.prop = v["value"]
        elif local == "claimValue":
            c.value = v
        elif local in ("qualifier", "dateQualifier"):
            _add_once(c.qualifiers, show(v, labels))
        elif local == "datePrecision":
            c.precision = show(v, labels)
        elif local == "earliestDate":
            c.earliest = v["value"]
        elif local == "latestDate":
            c.latest = v["value"]
        elif local == "statedIn":
            _add_once(c.sources, show(v, labels))
        elif local == "basis":
            _add_once(c.basis, show(v, labels))
        elif p == "http://www.w3.org/ns/prov#wasDerivedFrom":
            _add_once(c.derived_from, show(v, labels))
        elif p == "http://www.w3.org/2000/01/rdf-schema#comment":
            c.comment = v["value"]
    return [found[k] for k in sorted(found)]


def _add_once(terms: list[Shown], term: Shown) -> None:
    if all(t.value != term.value for t in terms):
        terms.append(term)


def _term_key(v: Mapping[str, Any]) -> tuple:
    return (v["type"], v["value"], v.get("datatype"), v.get("xml:lang"))


def graph_label(iri: str, labels: Labels) -> str:
    if iri == str(ONTOLOGY_GRAPH):
        return "explore-kg ontology"
    if iri == str(INFERRED_GRAPH):
        return "inferred by OWL RL reasoning"
    if iri == ENTAILED_GRAPH:
        return "entailed by the ontology (sub-classes, sub-properties, inverses)"
    return labels(iri)


def describe(entity: str, rows: Sequence[Mapping[str, Any]], labels: Labels, *,
             inverses: Mapping[str, str] | None = None, claims: Sequence[ClaimShown] = ()) -> dict[str, Any]:
    """Arrange fact rows (?dir ?p ?v ?g) into what the entity page shows.

    A fact that names the entity as its value is read from the entity's side (see :func:`inverse_label`);
    where the ontology declares an inverse it joins the entity's own facts (and an entailed copy of it is
    not shown twice). Each claim is shown with the value it is about."""
    inverses = inverses or {}
    sources: list[str] = []  # graph IRIs, in order of first use; a fact cites them by number

    def cite(g: str) -> int:
        if g not in sources:
            sources.append(g)
        return sources.index(g) + 1

    out: dict[str, dict[tuple, Shown]] = {}
    inbound: dict[str, dict[tuple, Shown]] = {}
    derived: dict[str, dict[tuple, Shown]] = {}  # entailed or inferred only: shown apart, folded away

    def place(row: Mapping[str, Any]) -> tuple[dict, str, tuple]:
        p = row["p"]["value"]
        groups = out if row["dir"]["value"] == "out" else inbound
        if groups is inbound and p in inverses:
            groups, p = out, inverses[p]
        return groups, p, _term_key(row["v"])

    asserted = {(id(groups), p, key) for groups, p, key in
                (place(row) for row in rows if row["g"]["value"] not in DERIVED_GRAPHS)}
    for row in sorted(rows, key=lambda r: r["g"]["value"] in DERIVED_GRAPHS):  # sources first, then the rest
        v, g = row["v"], row["g"]["value"]
        groups, p, key = place(row)
        if g in DERIVED_GRAPHS:
            if (id(groups), p, key) in asserted:
                continue  # a source states it: the ontology's copy adds nothing to the page
            if groups is inbound:
                continue  # "(thing) super-property (this)": the asserted fact is already shown
            groups = derived
        shown = groups.setdefault(p, {}).get(key)
        if shown is None:
            shown = groups[p][key] = show(v, labels)
        number = cite(g)
        if number not in shown.sources:
            shown.sources.append(number)

    claimed = {str(EKG.claim)}
    out.pop(str(EKG.claim), None)  # shown with the values they are about
    inbound.pop(str(EKG.claimSubject), None)
    unmatched = []
    for c in claims:
        shown = out.get(c.prop or "", {}).get(_term_key(c.value)) if c.value else None
        if shown is None:
            unmatched.append(c)
        else:
            shown.claims.append(c)
    types = list(out.pop(RDF_TYPE, {}).values())
    stated_in = out.pop(str(EKG.statedIn), {})  # the loader's provenance: shown as the sources list
    wikidata = [s for s in out.get(EXACT_MATCH, {}).values() if s.value.startswith(str(WD))]
    label = labels.full(entity)
    definition = next((next(iter(out[p].values())).label for p in DEFINITION_PROPERTIES if p in out), None)

    def arrange(groups: dict[str, dict[tuple, Shown]], inverse: bool = False) -> list[PropertyGroup]:
        def prop(p: str) -> Shown:
            if not inverse:
                return Shown("uri", p, labels(p), href=href(p), title=p)
            return Shown("uri", p, inverse_label(p, labels, inverses), href=href(p),
                         title=f"(thing) {labels(p)} {label or compact(entity)}: {p}")

        arranged = [PropertyGroup(prop(p), sorted(vals.values(), key=lambda s: (s.kind != "uri", s.label.lower())),
                                  inverse)
                    for p, vals in groups.items() if p not in claimed]
        return sorted(arranged, key=lambda g: (g.prop.value not in NAME_PROPERTIES,
                                                NAME_PROPERTIES.index(g.prop.value)
                                                if g.prop.value in NAME_PROPERTIES else 0,
                                                g.prop.label.lower()))

    source_list = [Shown("uri", g, graph_label(g, labels), href=None if g in DERIVED_GRAPHS else href(g), title=g)
                   for g in sources]
    documents = [s for s in stated_in.values()]
    return {
        "label": label or compact(entity),
        "has_label": label is not None,
        "types": sorted(types, key=lambda s: s.label.lower()),
        "definition": definition,
        "facts": arrange(out),
        "inbound": arrange(inbound, inverse=True),
        "derived": arrange({p: v for p, v in derived.items() if p != RDF_TYPE}),
        "derived_types": sorted(derived.get(RDF_TYPE, {}).values(), key=lambda s: s.label.lower()),
        "claims": unmatched,
        "sources": source_list,
        "documents": documents,
        "wikidata": wikidata,
    }


# --- a writable server: each fact's change history --------------------------------------------------

@dataclass
class FactChangeShown:
    prop: Shown
    value: Shown
    graph: str
    action: str  # "added" or "removed"
    seq: int
    who: str
    when: str
    message: str
    href: str  # the change's entry in /changes


def history_of(app: Any, iri: str, labels: Labels) -> list[FactChangeShown]:
    """The changes of the entity's facts, newest first; [] on a read-only server."""
    writer = getattr(app.state, "writer", None)
    if writer is None:
        return []
    import pyoxigraph as ox

    from .web_gallery import json_term

    out = []
    for c in writer.history.of(ox.NamedNode(iri)):
        g = c.quad.graph_name
        out.append(FactChangeShown(show(json_term(c.quad.predicate), labels), show(json_term(c.quad.object), labels),
                                   graph_label(g.value, labels) if isinstance(g, ox.NamedNode) else "default graph",
                                   c.action, c.seq, c.who, c.when[:19].replace("T", " ") + " UTC", c.message,
                                   f"/changes/{c.seq}"))
    return out
