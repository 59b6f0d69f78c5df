"""The checks that SHACL cannot express well, each a function from the run's :class:`Context` to results.

Every result names the offending triple (focus, path, value), so the locator can point at its line and
column, and carries a hint that says what to change. The rule ids are documented in
docs/validation-report.md (a test checks that every id emitted here is).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import OWL, SKOS, XSD
from rdflib.term import Node

from ..namespaces import BASE, EKG, ID, VOCAB
from . import dates
from .locate import Locator
from .released import is_deprecated, released_iris_kept
from .report import VIOLATION, Result, curie

Quad = tuple[Node, URIRef, Node, str]  # subject, predicate, object, graph IRI

# IRIs of our namespace that a fact may point to; each must be described somewhere.
_REFERABLE = tuple(BASE + p for p in ("id/", "vocab/", "source/", "ontology#"))
_W3C_VOCABULARIES = (str(OWL), str(RDFS), str(RDF), str(SKOS), "http://www.w3.org/ns/shacl#")
# Classes whose members are known by name: two of them with one name are probably one thing.
_NAMED_KINDS = tuple(
    EKG[c]
    for c in (
        "Organisation", "Person", "Mission", "Programme", "Spacecraft", "Instrument", "LaunchVehicle",
        "CelestialBody", "Place", "SurfaceRegion", "Orbit", "Technology",
    )
)
_NAME_PROPERTIES = (RDFS.label, EKG.acronym, SKOS.prefLabel, SKOS.altLabel)
# Mission statuses that say the thing has not flown yet: its launch date can only be a plan.
_NOT_YET_FLOWN = frozenset(VOCAB[f"mission-status/{s}"] for s in (
    "concept", "under-study", "candidate", "planning", "pending-approval", "approved", "under-development"))
# Date properties whatever the ontology says (it adds ekg:date's sub-properties).
_BASE_DATE_PROPERTIES = (EKG.date, EKG.temporalValue, EKG.plannedLaunchDate, EKG.plannedDate, EKG.published,
                         EKG.startDate, EKG.endDate, EKG.signingDate, EKG.launchDate)
_CURATION_KIND = VOCAB["source-kind/editorial-curation"]
_QUALIFIERS = (EKG.qualifier, EKG.dateQualifier)
# OWL vocabulary whose consequences the quick consistency check covers (see disjoint_classes).
_OWL_COVERED = frozenset(OWL[t] for t in (
    "Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty", "Ontology", "TransitiveProperty",
    "SymmetricProperty", "inverseOf", "disjointWith", "AllDisjointClasses", "members", "equivalentClass",
    "equivalentProperty", "versionIRI", "versionInfo", "imports", "Thing", "differentFrom", "deprecated",
    "priorVersion", "backwardCompatibleWith", "incompatibleWith", "NamedIndividual", "topObjectProperty",
    "topDataProperty",
))


@dataclass
class Context:
    """What every check needs: the whole asserted graph, the quads under review and the locator."""

    graph: Graph
    reviewed: list[Quad]
    locator: Locator
    scope: set[Node] | None = None  # the write gate's focus nodes: checks of the whole graph look at these only

    def result(self, rule: str, message: str, hint: str | None, focus: Node, path: URIRef | None = None,
               value: Node | None = None, *, at: str = "object", severity: str = VIOLATION,
               constraint: str | None = None, inverse: bool = False) -> Result:
        where = self.locator.locate(focus, path, value, at=at, inverse=inverse)
        return Result(rule, severity, message, focus=_focus_text(focus),
                      path=str(path) if path is not None else None,
                      value=value.n3() if value is not None else None, constraint=constraint, hint=hint, **where)

    @cached_property
    def described(self) -> set[Node]:
        return set(self.graph.subjects())

    @cached_property
    def classes(self) -> set[URIRef]:
        g = self.graph
        found = {c for kind in (OWL.Class, RDFS.Class, RDFS.Datatype) for c in g.subjects(RDF.type, kind)}
        found |= {c for c in g.objects(None, RDFS.subClassOf)} | {c for c in g.subjects(RDFS.subClassOf, None)}
        return {c for c in found if isinstance(c, URIRef)}

    @cached_property
    def properties(self) -> set[URIRef]:
        g = self.graph
        kinds = (RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
        found = {p for kind in kinds for p in g.subjects(RDF.type, kind)}
        return {p for p in found if isinstance(p, URIRef)}

    @cached_property
    def superclasses(self) -> Callable[[Node], set[Node]]:
        g, memo = self.graph, {}

        def up(cls: Node) -> set[Node]:
            if cls not in memo:
                memo[cls] = {cls}
                for parent in (*g.objects(cls, RDFS.subClassOf), *g.objects(cls, OWL.equivalentClass),
                               *g.subjects(OWL.equivalentClass, cls)):
                    if parent not in memo[cls]:
                        memo[cls] |= up(parent)
            return memo[cls]
        return up

    def types(self, node: Node) -> set[Node]:
        return {c for t in self.graph.objects(node, RDF.type) for c in self.superclasses(t)}

    @cached_property
    def date_properties(self) -> set[URIRef]:
        """ekg:date, the plans, ekg:published and every sub-property of them in the ontology."""
        g, found = self.graph, set(_BASE_DATE_PROPERTIES)
        todo = list(found)
        while todo:
            for sub in g.subjects(RDFS.subPropertyOf, todo.pop()):
                if isinstance(sub, URIRef) and sub not in found:
                    found.add(sub)
                    todo.append(sub)
        return found

    @cached_property
    def source_graphs(self) -> dict[str, bool]:
        """Each source document's IRI -> whether it is an editorial curation graph."""
        g = self.graph
        return {str(d): (d, EKG.sourceKind, _CURATION_KIND) in g for d in g.subjects(RDF.type, EKG.SourceDocument)}


def run_all(ctx: Context) -> list[Result]:
    out: list[Result] = []
    for check in CHECKS:
        out.extend(check(ctx))
    return out


# --- terms: namespace, typos, unknown classes, dangling references -------------------------------


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
            guess = _closest(p, ctx.properties)
            yield ctx.result("property-unknown", f"{curie(p)} is not a property of the explore-kg ontology.",
                             f"Did you mean {curie(guess)}?" if guess else
                             "Use a property the ontology declares (see /ontology), or propose the new term in "
                             "ontology/explore-kg.ttl.", s, p, o, at="predicate")
        if p == RDF.type and isinstance(o, URIRef) and o not in ctx.classes and not str(o).startswith(_W3C_VOCABULARIES) \
                and (str(o).startswith(BASE) or str(s).startswith(str(ID))) and (s, o) not in reported:
            reported.add((s, o))
            guess = _closest(o, {c for c in ctx.classes if str(c).startswith(str(EKG))}) if str(o).startswith(BASE) else None
            yield ctx.result("class-unknown", f"{curie(o)} is not a class of the explore-kg ontology.",
                             f"Did you mean {curie(guess)}?" if guess else
                             "Use a class the ontology declares (ekg:Organisation, ekg:SpaceAgency, ekg:Mission, ...).",
                             s, p, o)


def dangling_references(ctx: Context) -> Iterable[Result]:
    """Every IRI of our namespace that a reviewed fact points to must be described somewhere."""
    for s, p, o, _g in ctx.reviewed:
        if p == RDF.type or not isinstance(o, URIRef) or not str(o).startswith(_REFERABLE) or o in ctx.described:
            continue
        guess = _closest(o, {t for t in ctx.described if isinstance(t, URIRef) and _namespace(t) == _namespace(o)})
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
                hint = (f"A date goes in a date property (ekg:plannedDate {_turtle(o)}); ekg:timeframe holds a period in "
                        'words, such as "2030s"@en.')
            else:
                hint = (f'Write it as a string: "{o}"@en.' if isinstance(o, Literal) else
                        f"Give the text itself, e.g. \"...\"@en (to point at {curie(o)}, use another property).")
            yield ctx.result(rule[0], rule[1], hint, s, p, o)


# --- dates --------------------------------------------------------------------------------------


def date_values(ctx: Context) -> Iterable[Result]:
    """Every value of a date property is a well-formed date of one of the four datatypes."""
    props = ctx.date_properties
    claims_about_dates = {c for c, prop in ctx.graph.subject_objects(EKG.claimProperty) if prop in props}
    claim_value, bounds, xsd_date = EKG.claimValue, (EKG.earliestDate, EKG.latestDate), XSD.date  # (once, not per triple)
    for s, p, o, _g in ctx.reviewed:
        checked = p in props or (p == claim_value and s in claims_about_dates and isinstance(o, Literal))
        if p in bounds and isinstance(o, Literal) and o.datatype != xsd_date:
            yield ctx.result("date-wrong-datatype", f"{curie(p)} is a day: an xsd:date, not {o.n3()}.",
                             "Write the bound as \"YYYY-MM-DD\"^^xsd:date (or leave it out: the loader derives it).", s, p, o)
            continue
        if not checked:
            continue
        if not isinstance(o, Literal):
            yield ctx.result("date-wrong-datatype", f"{curie(p)} takes a date literal, not {curie(o)}.",
                             'Write the date itself, e.g. "2024-05-01"^^xsd:date.', s, p, o)
            continue
        found = dates.problem(o)
        if found:
            rule, message, hint = found
            yield ctx.result(rule, f"{curie(p)}: {message}", hint, s, p, o)


def end_before_start(ctx: Context) -> Iterable[Result]:
    """An end date whose whole interval lies before the start date's (any precision, fiscal years too)."""
    for s, p, end, _g in ctx.reviewed:
        if p != EKG.endDate or not isinstance(end, Literal):
            continue
        end_span = dates.interval(end)
        for start in ctx.graph.objects(s, EKG.startDate):
            start_span = dates.interval(start) if isinstance(start, Literal) else None
            if end_span and start_span and end_span[1] < start_span[0]:
                yield ctx.result("end-before-start",
                                 f"The end date {end} is before the start date {start}.",
                                 "Swap ekg:startDate and ekg:endDate, or check both dates against the source.", s, p, end)


def plans_as_facts(ctx: Context) -> Iterable[Result]:
    """``ekg:launchDate`` on a mission that has not flown yet (a planning status): a plan is not a fact."""
    for s, p, o, _g in ctx.reviewed:
        if p != EKG.launchDate:
            continue
        statuses = set(ctx.graph.objects(s, EKG.missionStatus))
        statuses |= {ctx.graph.value(c, EKG.claimValue) for c in ctx.graph.objects(s, EKG.claim)
                     if ctx.graph.value(c, EKG.claimProperty) == EKG.missionStatus}
        planned = sorted((st for st in statuses if st in _NOT_YET_FLOWN), key=str)
        if planned:
            yield ctx.result("plan-as-fact",
                             f"{curie(s)} has status {curie(planned[0])}, so it has not launched: ekg:launchDate states a "
                             "launch as a fact.",
                             f"Write ekg:plannedLaunchDate {o.n3() if not isinstance(o, Literal) else _turtle(o)} "
                             "instead (a plan is not a fact).", s, p, o, at="predicate")


# --- sources, duplicates, basis, claims ---------------------------------------------------------


def missing_sources(ctx: Context) -> Iterable[Result]:
    """Every reviewed entity is stated in a graph that is a source document's (the loader's ekg:statedIn)."""
    reported = set()
    for s, _p, _o, g in ctx.reviewed:
        if isinstance(s, URIRef) and str(s).startswith(str(ID)) and g not in ctx.source_graphs and s not in reported:
            reported.add(s)
            yield ctx.result(
                "source-missing",
                "Fact without a source: the file that describes this entity declares no ekg:SourceDocument (or several), "
                "so nothing says which document states it.",
                "Describe the one document the facts come from in the file: src:<slug> a ekg:SourceDocument ; "
                "dcterms:title \"...\" ; ekg:sourceKind sourcekind:... .", s, at="subject")


def duplicates(ctx: Context) -> Iterable[Result]:
    """A reviewed entity whose name or acronym is another entity's, both of one named kind, and no
    ``owl:differentFrom`` between them."""
    g = ctx.graph
    kinds: dict[Node, set[URIRef]] = {}

    def kinds_of(node: Node) -> set[URIRef]:
        if node not in kinds:
            kinds[node] = {k for k in _NAMED_KINDS if k in ctx.types(node)}
        return kinds[node]

    names: dict[str, set[URIRef]] = defaultdict(set)
    entities = None if ctx.scope is None else [  # the write gate: the entities of its small graph, not every label
        n for n in ctx.described if isinstance(n, URIRef) and str(n).startswith(str(ID))]
    for prop in _NAME_PROPERTIES:
        pairs = g.subject_objects(prop) if entities is None else ((n, o) for n in entities for o in g.objects(n, prop))
        for s, o in pairs:
            if isinstance(s, URIRef) and str(s).startswith(str(ID)) and isinstance(o, Literal):
                names[_normal(o)].add(s)
    reviewed = sorted({q[0] for q in ctx.reviewed if isinstance(q[0], URIRef) and str(q[0]).startswith(str(ID))}, key=str)
    reported: set[frozenset] = set()
    for entity in reviewed:
        for prop in _NAME_PROPERTIES:
            for name in g.objects(entity, prop):
                if not isinstance(name, Literal):
                    continue
                for other in sorted(names.get(_normal(name), ()), key=str):
                    pair = frozenset((entity, other))
                    if other == entity or pair in reported or not (kinds_of(entity) & kinds_of(other)):
                        continue
                    if is_deprecated(g, entity) or is_deprecated(g, other):
                        continue  # a deprecated entity keeps the name of the one that replaces it
                    reported.add(pair)
                    if (entity, OWL.differentFrom, other) in g or (other, OWL.differentFrom, entity) in g:
                        continue
                    yield ctx.result(
                        "duplicate-entity",
                        f"Likely duplicate: {curie(other)} has the same name \"{name}\".",
                        f"Reuse {curie(other)} if both are the same thing; if they are different things, say so with "
                        f"{curie(entity)} owl:differentFrom {curie(other)} .", entity, prop, name)


def basis_outside_curation(ctx: Context) -> Iterable[Result]:
    """``ekg:basis`` (general knowledge, inference...) belongs in the curation graph, never a document's."""
    for s, p, o, g in ctx.reviewed:
        if p == EKG.basis and not ctx.source_graphs.get(g, False):
            yield ctx.result("basis-outside-curation",
                             "ekg:basis marks a claim that no document states, but this graph is a document's: a "
                             "document's graph holds only what the document says.",
                             "Move the claim (and its direct triple) to data/explore-kg-curation.ttl, or, if the document "
                             "does say it, drop ekg:basis.", s, p, o, at="predicate")


def qualifiers_on_subjects(ctx: Context) -> Iterable[Result]:
    """A qualifier belongs to a value (a claim), not to the subject of the value."""
    for s, p, o, _g in ctx.reviewed:
        if p in _QUALIFIERS and EKG.Claim not in ctx.types(s):
            yield ctx.result(
                "qualifier-on-subject",
                f"{curie(p)} qualifies a value, but {curie(s)} is not an ekg:Claim: it is unclear which of its values it "
                "qualifies.",
                f"State the qualified value as a claim: {curie(s)} ekg:claim claim:<slug> . claim:<slug> a ekg:Claim ; "
                f"ekg:claimSubject {curie(s)} ; ekg:claimProperty ekg:<property> ; ekg:claimValue <value> ; "
                f"ekg:qualifier {curie(o)} .", s, p, o, at="predicate")


def claims_without_source(ctx: Context) -> Iterable[Result]:
    """A claim needs a source: ekg:statedIn (the loader adds it), the source document whose graph holds it
    (TriG keeps its graphs), or, in the curation graph, an ekg:basis."""
    sourced, claims = set(), {}
    sourcing, rdf_type, claim_class, source_graphs = (EKG.statedIn, EKG.basis), RDF.type, EKG.Claim, ctx.source_graphs
    for s, p, o, g in ctx.reviewed:
        if p in sourcing or g in source_graphs:
            sourced.add(s)
        if p == rdf_type and o == claim_class:
            claims.setdefault(s, g)
    for claim in sorted(set(claims) - sourced, key=str):
        if (claim, EKG.statedIn, None) in ctx.graph or (claim, EKG.basis, None) in ctx.graph:
            continue
        yield ctx.result("claim-source-missing",
                         "A claim needs a source: the document that states it (ekg:statedIn) or, in the curation graph, "
                         "an ekg:basis.",
                         "Put the claim in the file of the document that states it (the loader adds ekg:statedIn), or, "
                         "if no document states it, in data/explore-kg-curation.ttl with an ekg:basis.",
                         claim, RDF.type, EKG.Claim, at="subject")


def claim_bounds(ctx: Context) -> Iterable[Result]:
    """A date claim's earliest/latest day and precision are the value's own interval (the loader derives them)."""
    g = ctx.graph
    reviewed_claims = {q[0] for q in ctx.reviewed if q[1] == RDF.type and q[2] == EKG.Claim}
    for claim in sorted(reviewed_claims, key=str):
        values = list(g.objects(claim, EKG.claimValue))
        if len(values) != 1 or len(set(g.objects(claim, EKG.claimProperty))) != 1:
            continue  # the claim shapes report it; its bounds mean nothing yet
        value = values[0]
        if not isinstance(value, Literal) or value.datatype not in dates.DATE_TYPES:
            continue
        span = dates.interval(value)
        if span is None:
            continue  # date_values reports the value itself
        for prop, expected in ((EKG.earliestDate, span[0]), (EKG.latestDate, span[1])):
            given = list(g.objects(claim, prop))
            if not given:
                yield ctx.result("claim-bounds-missing", f"The claim's date {value} has no {curie(prop)}.",
                                 f"Add {curie(prop)} \"{expected.isoformat()}\"^^xsd:date (the loader derives it for "
                                 "files it loads).", claim, EKG.claimValue, value)
            for bound in given:
                if str(bound) != expected.isoformat():
                    yield ctx.result("claim-bounds-inconsistent",
                                     f"{curie(prop)} {bound} does not match the value {value}, whose interval is "
                                     f"{span[0].isoformat()} to {span[1].isoformat()}.",
                                     f"Write {curie(prop)} \"{expected.isoformat()}\"^^xsd:date, or leave the bounds out "
                                     "and let the loader derive them (the qualifier says how to read the value).",
                                     claim, prop, bound)
        if span[0] > span[1]:
            continue
        earliest, latest = g.value(claim, EKG.earliestDate), g.value(claim, EKG.latestDate)
        if isinstance(earliest, Literal) and isinstance(latest, Literal) and str(latest) < str(earliest):
            yield ctx.result("claim-bounds-inconsistent", f"ekg:latestDate {latest} is before ekg:earliestDate {earliest}.",
                             "Swap them, or leave both out and let the loader derive them.", claim, EKG.latestDate, latest)


def dates_without_bounds(ctx: Context) -> Iterable[Result]:
    """Every date triple has, in its own graph, a claim carrying its earliest and latest day (issue 9).

    The loader derives these claims for every file it reads, so this fails only for data that bypassed
    it. Checked once the ontology has the claim model (it declares ekg:earliestDate).
    """
    if EKG.earliestDate not in ctx.properties:
        return
    claims: dict[tuple[str, Node], dict[URIRef, set[Node]]] = defaultdict(lambda: defaultdict(set))
    subject_of: dict[tuple[str, Node], Node] = {}
    claim_parts, claim_subject, claim = (EKG.claimProperty, EKG.claimValue, EKG.earliestDate, EKG.latestDate), \
        EKG.claimSubject, EKG.claim  # (once, not per triple)
    for s, p, o, g in ctx.reviewed:
        if p in claim_parts:
            claims[(g, s)][p].add(o)
        elif p == claim_subject:
            subject_of[(g, s)] = o
        elif p == claim:
            subject_of.setdefault((g, o), s)
    bounded = {(g, subject_of.get((g, c)), prop, value)
               for (g, c), about in claims.items() if about[EKG.earliestDate] and about[EKG.latestDate]
               for prop in about[EKG.claimProperty] for value in about[EKG.claimValue]}
    skip, date_properties = (EKG.earliestDate, EKG.latestDate, EKG.claimValue), ctx.date_properties
    for s, p, o, g in ctx.reviewed:
        if p in date_properties and p not in skip and isinstance(o, Literal) and dates.interval(o) is not None \
                and (g, s, p, o) not in bounded:
            yield ctx.result("date-bounds-missing",
                             f"The date {_turtle(o)} has no claim with its earliest and latest day in this graph, so "
                             "it does not sort or filter with the other dates.",
                             "Load the file with explore-kg (the loader adds the claim), or add ekg:claim with "
                             "ekg:claimProperty, ekg:claimValue, ekg:earliestDate and ekg:latestDate.", s, p, o)


# --- OWL RL consistency, quickly ------------------------------------------------------------------


def covered_by_quick_check(graph: Graph) -> bool:
    """Whether the graph uses only OWL vocabulary whose consequences :func:`disjoint_classes` derives;
    otherwise the run falls back to owlrl."""
    owl = str(OWL)
    for _s, p, o in graph:
        for term in (p, o):
            if isinstance(term, URIRef) and str(term).startswith(owl) and term not in _OWL_COVERED:
                return False
    return True


def disjoint_classes(ctx: Context) -> Iterable[Result]:
    """A node that is a member of two disjoint classes, through its asserted types, sub-classes,
    equivalent classes and the domains and ranges of the properties it is used with (as OWL RL infers)."""
    g = ctx.graph
    disjoint: dict[Node, set[Node]] = defaultdict(set)
    for a, b in g.subject_objects(OWL.disjointWith):
        disjoint[a].add(b)
        disjoint[b].add(a)
    from rdflib.collection import Collection

    for group in g.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(Collection(g, g.value(group, OWL.members))) if g.value(group, OWL.members) else []
        for a in members:
            disjoint[a] |= {b for b in members if b != a}
    if not disjoint:
        return
    inverse: dict[Node, set[Node]] = defaultdict(set)

    memo: dict[Node, set[Node]] = {}

    def up(p: Node, seen: set[Node]) -> set[Node]:
        if p in memo:
            return memo[p]
        todo = [p]
        while todo:
            for q in (*g.objects(todo[-1], RDFS.subPropertyOf), *g.objects(todo[-1], OWL.equivalentProperty),
                      *g.subjects(OWL.equivalentProperty, todo.pop())):
                if q not in seen:
                    seen.add(q)
                    todo.append(q)
        memo[p] = seen
        return seen

    for a, b in g.subject_objects(OWL.inverseOf):
        inverse[a].add(b)
        inverse[b].add(a)
    for p in g.subjects(RDF.type, OWL.SymmetricProperty):
        inverse[p].add(p)
    domains: dict[Node, set[Node]] = defaultdict(set)
    ranges: dict[Node, set[Node]] = defaultdict(set)
    for p, c in g.subject_objects(RDFS.domain):
        domains[p].add(c)
    for p, c in g.subject_objects(RDFS.range):
        ranges[p].add(c)
    why: dict[Node, dict[Node, tuple]] = defaultdict(dict)  # node -> class -> the triple that makes it one
    reviewed_triples = {q[:3] for q in ctx.reviewed}

    def typed(node: Node, cls: Node, triple: tuple) -> None:
        for c in ctx.superclasses(cls):
            known = why[node].get(c)
            if known is None or (known not in reviewed_triples and triple in reviewed_triples):
                why[node][c] = triple  # the reason a reviewed file gives, where there is one

    reviewed_subjects = {q[0] for q in ctx.reviewed} | {q[2] for q in ctx.reviewed}
    if ctx.scope is None:
        triples = g
    else:  # the write gate: only the triples of the nodes under review decide their classes
        triples = Graph()
        for n in reviewed_subjects:
            for t in (*g.triples((n, None, None)), *g.triples((None, None, n))):
                triples.add(t)
    for s, o in triples.subject_objects(RDF.type):
        typed(s, o, (s, RDF.type, o))
    for s, p, o in triples:
        if p == RDF.type:
            continue
        props = up(p, {p})
        for q in list(props):
            for inv in inverse.get(q, ()):
                for c in domains.get(inv, ()):
                    if not isinstance(o, Literal):
                        typed(o, c, (s, p, o))
                for c in ranges.get(inv, ()):
                    typed(s, c, (s, p, o))
            for c in domains.get(q, ()):
                typed(s, c, (s, p, o))
            if not isinstance(o, Literal):
                for c in ranges.get(q, ()):
                    typed(o, c, (s, p, o))
    for node in sorted(why, key=str):
        if node not in reviewed_subjects:
            continue
        classes = why[node]
        for a in sorted(classes, key=str):
            clash = sorted((b for b in disjoint.get(a, ()) if b in classes), key=str)
            if clash and str(a) < str(clash[0]):
                b = clash[0]
                reasons = [classes[b], classes[a]]
                ts, tp, to = next((t for t in reasons if t in reviewed_triples), reasons[0])
                via = "" if tp == RDF.type else f" (through the domain or range of {curie(tp)})"
                yield ctx.result("owl-inconsistency",
                                 f"{curie(node)} is a member of both {curie(a)} and {curie(b)}, which are disjoint "
                                 f"classes{via}.",
                                 "Give it one type; if two things are meant, give each its own IRI; if a property "
                                 "implies the type, use the property meant.",
                                 ts, tp, to, at="predicate" if tp != RDF.type else "object", constraint="owlrl:cax-dw")


def ill_typed_literals(ctx: Context) -> Iterable[Result]:
    """A typed literal whose text is not a value of its datatype (dates are checked by ``date_values``)."""
    props = ctx.date_properties
    for s, p, o, _g in ctx.reviewed:
        if isinstance(o, Literal) and o.datatype is not None and p not in props and p != EKG.claimValue \
                and o.datatype in _XSD_CHECKED and o.ill_typed:
            yield ctx.result("literal-ill-typed", f"{o.n3()} is not a valid {curie(o.datatype)} value.",
                             f"Write a valid {curie(o.datatype)} value, or use another datatype.", s, p, o,
                             constraint="owlrl:dt-not-type")


_XSD_CHECKED = frozenset(XSD[t] for t in (
    "date", "dateTime", "gYear", "gYearMonth", "integer", "decimal", "double", "float", "boolean",
    "nonNegativeInteger", "positiveInteger", "int", "long", "anyURI", "time"))


CHECKS: tuple[Callable[[Context], Iterable[Result]], ...] = (
    http_namespace, unknown_terms, dangling_references, schema_only_types, text_values, date_values, end_before_start,
    plans_as_facts, missing_sources, duplicates, basis_outside_curation, qualifiers_on_subjects, claims_without_source,
    claim_bounds,
    dates_without_bounds,
    disjoint_classes, ill_typed_literals, released_iris_kept,
)


# --- helpers ------------------------------------------------------------------------------------


def _focus_text(focus: Node | None) -> str | None:
    if focus is None:
        return None
    return str(focus) if isinstance(focus, URIRef) else focus.n3()


def _normal(name: Literal) -> str:
    return " ".join(str(name).casefold().split())


def _namespace(iri: URIRef) -> str:
    s = str(iri)
    return s[: max(s.rfind("/"), s.rfind("#")) + 1]


def _turtle(value: Literal) -> str:
    if value.datatype is not None:
        return dates.written(str(value), value.datatype) if value.datatype in dates.DATE_TYPES else value.n3()
    return value.n3()


def _closest(term: URIRef, candidates: Iterable[URIRef]) -> URIRef | None:
    """The candidate whose local name is nearest to the term's (case-insensitive edit distance)."""
    local = _local(term).lower()
    if not local:
        return None
    best, best_d = None, None
    for c in candidates:
        if c == term:
            continue
        d = _distance(local, _local(c).lower(), limit=max(2, len(local) // 4))
        if d is not None and (best_d is None or d < best_d or (d == best_d and str(c) < str(best))):
            best, best_d = c, d
    return best


def _local(iri: Node) -> str:
    s = str(iri)
    return s[max(s.rfind("/"), s.rfind("#")) + 1:]


def _distance(a: str, b: str, limit: int) -> int | None:
    """Levenshtein distance of a and b if it is at most ``limit``, else None."""
    if abs(len(a) - len(b)) > limit:
        return None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return None
        previous = current
    return previous[-1] if previous[-1] <= limit else None

