"""Checks of the terms a fact uses: our namespace (https), properties and classes the ontology
declares (with a "did you mean"), references to entities described somewhere, our classes rather than
another vocabulary's alone, and text where text is expected."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.namespace import OWL, SKOS, XSD
from rdflib.term import Node

from ..namespaces import BASE, EKG, ID
from . import dates
from .context import Context, Quad, turtle
from .report import Result, curie
from .suggestions import closest

# IRIs of our namespace that a fact may point to; each must be described somewhere.
_REFERABLE = tuple(BASE + p for p in ("id/", "vocab/", "source/", "ontology#"))
_W3C_VOCABULARIES = (str(OWL), str(RDFS), str(RDF), str(SKOS), "http://www.w3.org/ns/shacl#")


def http_namespace(ctx: Context) -> Iterable[Result]:
    """``http://w3id.org/explore-kg/...``: our namespace is https; the http IRI is another thing.

    One result per namespace written wrong (usually one @prefix), at its first use.
    """
    uses: dict[str, list[tuple[Quad, URIRef, str]]] = defaultdict(list)
    for q in ctx.reviewed:
        for term, role in ((q[0], "subject"), (q[1], "predicate"), (q[2], "object")):
            if isinstance(term, URIRef) and str(term).startswith("http://w3id.org/explore-kg/"):
                uses[_namespace(term)].append((q, term, role))
    for namespace, found in uses.items():
        (s, p, o, _g), term, role = found[0]
        others = len({t for _q, t, _r in found}) - 1
        more = f" ({others} other IRI(s) of this file too)" if others else ""
        yield ctx.result("namespace-http",
                         f"{term} uses http://; the explore-kg namespace is https://w3id.org/explore-kg/{more}.",
                         f"Write <https{namespace[4:]}...> (check the @prefix declarations at the top of the file).",
                         s, p, o, at=role)


def unknown_terms(ctx: Context) -> Iterable[Result]:
    """Properties and classes of our ontology that it does not declare (typos get a "did you mean")."""
    reported = set()
    for s, p, o, _g in ctx.reviewed:
        if str(p).startswith(str(EKG)) and p not in ctx.properties and p not in ctx.described and p not in reported:
            reported.add(p)
            guess = closest(p, ctx.properties)
            yield ctx.result("property-unknown", f"{curie(p)} is not a property of the explore-kg ontology.",
                             f"Did you mean {curie(guess)}?" if guess else
                             "Use a property the ontology declares (see /ontology), or propose the new term in "
                             "ontology/explore-kg.ttl.", s, p, o, at="predicate")
        if p == RDF.type and isinstance(o, URIRef) and o not in ctx.classes and not str(o).startswith(_W3C_VOCABULARIES) \
                and (str(o).startswith(BASE) or str(s).startswith(str(ID))) and (s, o) not in reported:
            reported.add((s, o))
            guess = closest(o, {c for c in ctx.classes if str(c).startswith(str(EKG))}) if str(o).startswith(BASE) else None
            yield ctx.result("class-unknown", f"{curie(o)} is not a class of the explore-kg ontology.",
                             f"Did you mean {curie(guess)}?" if guess else
                             "Use a class the ontology declares (ekg:Organisation, ekg:SpaceAgency, ekg:Mission, ...).",
                             s, p, o)


def dangling_references(ctx: Context) -> Iterable[Result]:
    """Every IRI of our namespace that a reviewed fact points to must be described somewhere."""
    for s, p, o, _g in ctx.reviewed:
        if p == RDF.type or not isinstance(o, URIRef) or not str(o).startswith(_REFERABLE) or o in ctx.described:
            continue
        guess = closest(o, {t for t in ctx.described if isinstance(t, URIRef) and _namespace(t) == _namespace(o)})
        yield ctx.result("reference-dangling",
                         f"{curie(o)} is not described anywhere in the graph or the new files.",
                         f"Did you mean {curie(guess)}?" if guess else
                         "Fix the typo, or describe the entity (a type and an rdfs:label) in this file.", s, p, o)


def schema_only_types(ctx: Context) -> Iterable[Result]:
    """An entity typed only with another vocabulary's class (schema:Organization) and none of ours."""
    by_subject: dict[Node, list[Quad]] = defaultdict(list)
    for q in ctx.reviewed:
        if q[1] == RDF.type and isinstance(q[0], URIRef) and str(q[0]).startswith(str(ID)):
            by_subject[q[0]].append(q)
    for s, quads in by_subject.items():
        if any(str(t).startswith(str(EKG)) for t in ctx.graph.objects(s, RDF.type)):
            continue
        for _s, p, o, _g in quads:
            ours = sorted({c for c in ctx.graph.subjects(RDFS.subClassOf, o) if str(c).startswith(str(EKG))}, key=str)
            if ours:
                names = " or ".join(curie(c) for c in ours[:4])
                yield ctx.result("schema-only-type",
                                 f"{curie(s)} is typed only as {curie(o)}, a class of another vocabulary: our shapes, "
                                 "queries and pages know it by an explore-kg class.",
                                 f"Type it as {names} (the export adds {curie(o)} itself).", s, p, o)


_TEXT_RULES = {
    RDFS.label: ("label-malformed", "An rdfs:label must be a plain or language-tagged string."),
    EKG.acronym: ("acronym-malformed", "An acronym must be text."),
    EKG.description: ("description-malformed", "A description must be text."),
    EKG.timeframe: ("timeframe-malformed", 'ekg:timeframe is a period in words (such as "2030s") and must be text; use a '
                    "date property for anything an XSD date type can hold."),
}


def text_values(ctx: Context) -> Iterable[Result]:
    """Names, acronyms, descriptions and timeframes are text: a plain or language-tagged string.

    (Python rather than SHACL: pyshacl evaluates the ``sh:or`` of two datatypes by building a failure
    report for the branch that does not match, which cost a fifth of the whole run on the shipped graph.)
    """
    for s, p, o, _g in ctx.reviewed:
        rule = _TEXT_RULES.get(p)
        if rule and not (isinstance(o, Literal) and (o.language or o.datatype in (None, XSD.string))):
            if p == EKG.timeframe and isinstance(o, Literal) and o.datatype in dates.DATE_TYPES:
                hint = (f"A date goes in a date property (ekg:plannedDate {turtle(o)}); ekg:timeframe holds a period in "
                        'words, such as "2030s"@en.')
            else:
                hint = (f'Write it as a string: "{o}"@en.' if isinstance(o, Literal) else
                        f"Give the text itself, e.g. \"...\"@en (to point at {curie(o)}, use another property).")
            yield ctx.result(rule[0], rule[1], hint, s, p, o)


def _namespace(iri: URIRef) -> str:
    s = str(iri)
    return s[: max(s.rfind("/"), s.rfind("#")) + 1]
