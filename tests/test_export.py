"""Export: every format round-trips, output is byte-stable across processes, inferred triples stay apart,
profiles hold the mapped terms, and the VoID description counts what the document really holds."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from explore_kg.export import (
    ALIGNMENT_GRAPH,
    DESCRIPTION_GRAPH,
    FORMATS,
    Exporter,
    ExportError,
    dataset_iri,
)
from explore_kg.loading import load
from explore_kg.namespaces import INFERRED_GRAPH, SOURCE
from explore_kg.writers import canonical_quads

OX_FORMAT = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
}
RDFLIB_FORMAT = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
VOID = "http://rdfs.org/ns/void#"
SCHEMA = "https://schema.org/"
WDT = "http://www.wikidata.org/prop/direct/"
DERIVED = {ox.NamedNode(str(g)) for g in (ALIGNMENT_GRAPH, DESCRIPTION_GRAPH, INFERRED_GRAPH)}


@pytest.fixture(scope="module")
def loaded():
    return load()


@pytest.fixture(scope="module")
def exporter(shipped_exporter):
    return shipped_exporter  # (conftest: one per session, it reasons once; the shipped graph, as ``loaded``)


def parse(data: bytes, fmt: str) -> list[ox.Quad]:
    return list(ox.parse(data, format=OX_FORMAT[fmt]))


def triples_of(quads) -> set:
    return {q.triple for q in quads}


def canonical_triples(quads) -> set:
    """Triples with content-derived blank-node labels, so two isomorphic graphs give equal sets."""
    return {q.triple for q in canonical_quads(ox.Quad(q.subject, q.predicate, q.object) for q in quads)}


def without_derived(quads) -> list[ox.Quad]:
    return [q for q in quads if q.graph_name not in DERIVED]


# --- round trips ----------------------------------------------------------------------------------


def test_trig_round_trip_gives_back_the_loaded_dataset(loaded, exporter):
    doc = exporter.document("trig")
    parsed = parse(doc.data, "trig")
    assert set(canonical_quads(without_derived(parsed))) == set(canonical_quads(loaded.quads))
    graphs = {q.graph_name.value for q in parsed}
    assert str(ALIGNMENT_GRAPH) in graphs and str(DESCRIPTION_GRAPH) in graphs
    assert str(INFERRED_GRAPH) not in graphs  # asserted only by default


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_round_trips_to_the_same_triples(exporter, fmt):
    reference = parse(exporter.document("trig").data, "trig")
    doc = exporter.document(fmt)
    parsed = parse(doc.data, fmt)
    assert canonical_triples(parsed) == canonical_triples(reference)
    if fmt in RDFLIB_FORMAT:  # a second, independent parser agrees
        g = Graph().parse(data=doc.data, format=RDFLIB_FORMAT[fmt])
        expected = Graph().parse(data=exporter.document("ntriples").data, format="nt")
        assert isomorphic(g, expected)


@pytest.mark.parametrize("profile", ["schema", "wikidata"])
@pytest.mark.parametrize("fmt", ["turtle", "jsonld", "rdfxml", "trig"])
def test_profiles_round_trip_in_every_format(exporter, fmt, profile):
    reference = parse(exporter.document("nquads", profile=profile).data, "nquads")
    data = exporter.document(fmt, profile=profile).data
    assert canonical_triples(parse(data, fmt)) == canonical_triples(reference)
    if fmt in RDFLIB_FORMAT:
        expected = Graph().parse(data=exporter.document("ntriples", profile=profile).data, format="nt")
        assert isomorphic(Graph().parse(data=data, format=RDFLIB_FORMAT[fmt]), expected)


def test_blank_nodes_and_lists_survive(exporter):
    """The ontology's owl:AllDisjointClasses list is written as ( ... ) and parses back whole."""
    text = exporter.document("turtle").data.decode()
    assert "owl:members ( ekg:" in text
    g = Graph().parse(data=text, format="turtle")
    members = list(g.items(next(g.objects(None, ox_to_rdflib("http://www.w3.org/2002/07/owl#members")))))
    assert len(members) >= 5


def ox_to_rdflib(iri: str):
    from rdflib import URIRef

    return URIRef(iri)


# --- determinism --------------------------------------------------------------------------------------


def test_two_exports_are_byte_identical(loaded):
    a, b = Exporter(loaded), Exporter(load())
    for fmt in FORMATS:
        assert a.document(fmt).data == b.document(fmt).data, fmt


HASH_SCRIPT = """
import hashlib, sys
from explore_kg.export import Exporter, FORMATS
from explore_kg.loading import load
e = Exporter(load())
for profile in ("core", "schema", "wikidata"):
    for fmt in FORMATS:
        print(profile, fmt, hashlib.sha256(e.document(fmt, profile=profile).data).hexdigest())
print("trig-all", hashlib.sha256(e.document("trig", content="all").data).hexdigest())
"""


def test_exports_are_byte_identical_across_processes(exporter):
    """Hash seeds differ between processes; rdflib's own writers would change order and labels."""
    outputs = []
    for seed in ("1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        run = subprocess.run([sys.executable, "-c", HASH_SCRIPT], capture_output=True, text=True, env=env, timeout=300)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    here = {f"{p} {f}": hashlib.sha256(exporter.document(f, profile=p).data).hexdigest()
            for p in ("core", "schema", "wikidata") for f in FORMATS}
    for line in outputs[0].splitlines():
        key, digest = line.rsplit(" ", 1)
        if key in here:
            assert here[key] == digest, key


def test_cli_writes_the_same_bytes_as_the_library(tmp_path, exporter):
    out = tmp_path / "kg.nq"
    run = subprocess.run([sys.executable, "-m", "explore_kg", "export", "-f", "nquads", "-o", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == exporter.document("nquads").data
    stdout = subprocess.run([sys.executable, "-m", "explore_kg", "export"], capture_output=True, timeout=300)
    assert stdout.returncode == 0
    assert stdout.stdout == exporter.document("turtle").data  # default: turtle, asserted, core


def test_nquads_lines_are_sorted_and_unique(exporter):
    lines = exporter.document("nquads").data.decode().splitlines()
    assert lines == sorted(set(lines))


# --- inferred triples kept apart ------------------------------------------------------------------------


def test_inferred_triples_live_in_their_own_graph(exporter):
    parsed = parse(exporter.document("trig", content="all").data, "trig")
    inferred_graph = ox.NamedNode(str(INFERRED_GRAPH))
    inferred = {q.triple for q in parsed if q.graph_name == inferred_graph}
    asserted = {q.triple for q in parsed if q.graph_name != inferred_graph}
    assert inferred, "OWL RL should infer something (super-classes of typed entities at least)"
    assert not inferred & asserted
    # the asserted part is exactly the asserted-only export (description aside: its counts differ)
    void_graph = ox.NamedNode(str(DESCRIPTION_GRAPH))
    only = [q for q in parse(exporter.document("trig").data, "trig") if q.graph_name != void_graph]
    assert set(canonical_quads(q for q in parsed if q.graph_name not in (inferred_graph, void_graph))) == \
        set(canonical_quads(only))


def test_inferred_has_no_tautologies(exporter):
    meta = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#",
            "http://www.w3.org/2002/07/owl#", "http://www.w3.org/2001/XMLSchema#")
    same_as = "http://www.w3.org/2002/07/owl#sameAs"
    reflexive = {same_as, "http://www.w3.org/2000/01/rdf-schema#subClassOf",
                 "http://www.w3.org/2000/01/rdf-schema#subPropertyOf",
                 "http://www.w3.org/2002/07/owl#equivalentClass"}
    quads = exporter.inferred("core", None)
    assert quads
    for q in quads:
        assert not (q.subject == q.object and q.predicate.value in reflexive), q
        assert not (isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(meta)), q
        assert q.object.value not in ("http://www.w3.org/2002/07/owl#Thing",
                                      "http://www.w3.org/2000/01/rdf-schema#Resource"), q


def test_inferred_includes_super_classes_of_our_own(exporter):
    """ekg:SpaceAgency is a sub-class of ekg:Organisation: its members are inferred to be organisations."""
    quads = exporter.inferred("core", None)
    agencies = {q.subject for q in exporter.quads
                if q.predicate == RDF_TYPE and q.object.value.endswith("ontology#SpaceAgency")}
    assert agencies
    organisation = ox.NamedNode("https://w3id.org/explore-kg/ontology#Organisation")
    assert all(ox.Triple(a, RDF_TYPE, organisation) in triples_of(quads) for a in agencies
               if ox.Triple(a, RDF_TYPE, organisation) not in triples_of(exporter.quads))


def test_triple_formats_refuse_to_mix_inferred_in(exporter):
    with pytest.raises(ExportError, match="trig or nquads"):
        exporter.document("turtle", content="all")


def test_cli_inferred_turtle_writes_a_second_file(tmp_path, exporter):
    out = tmp_path / "explore-kg.ttl"
    run = subprocess.run([sys.executable, "-m", "explore_kg", "export", "--inferred", "-o", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    side = tmp_path / "explore-kg.inferred.ttl"
    assert out.read_bytes() == exporter.document("turtle").data  # the main file stays asserted-only
    inferred = Graph().parse(side, format="turtle")
    assert inferred_dataset_count(inferred) == len(triples_of(exporter.inferred("core", None)))
    refused = subprocess.run([sys.executable, "-m", "explore_kg", "export", "--inferred"],
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2
    assert "-o FILE" in refused.stderr and not refused.stdout


def inferred_dataset_count(g: Graph) -> int:
    from rdflib import URIRef

    value = g.value(URIRef(dataset_iri("core", "inferred", None)), URIRef(VOID + "triples"))
    return int(value)


# --- one graph ---------------------------------------------------------------------------------------


def test_graph_option_exports_one_source(exporter, loaded):
    slug = "lupex-mission-overview"
    source = ox.NamedNode(str(SOURCE[slug]))
    parsed = parse(exporter.document("trig", graph=slug).data, "trig")
    data = without_derived(parsed)
    assert data and {q.graph_name for q in data} == {source}
    assert set(canonical_quads(data)) == set(canonical_quads(q for q in loaded.quads if q.graph_name == source))
    assert exporter.document("trig", graph=str(SOURCE[slug])).data == exporter.document("trig", graph=slug).data


def test_unknown_graph_is_a_clear_error(exporter):
    with pytest.raises(ExportError) as err:
        exporter.document("turtle", graph="no-such-source")
    assert "no-such-source" in str(err.value) and "lupex-mission-overview" in str(err.value)
    run = subprocess.run([sys.executable, "-m", "explore_kg", "export", "--graph", "no-such-source"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "known graphs:" in run.stderr and "ontology" in run.stderr


def test_unknown_format_and_profile_are_clear_errors(exporter):
    with pytest.raises(ExportError, match="known formats"):
        exporter.document("csv")
    with pytest.raises(ExportError, match="known profiles"):
        exporter.document("turtle", profile="dublin-core")


# --- profiles ---------------------------------------------------------------------------------------


def test_core_profile_adds_standard_super_terms(exporter):
    parsed = parse(exporter.document("trig").data, "trig")
    alignment = {q.triple for q in parsed if q.graph_name == ox.NamedNode(str(ALIGNMENT_GRAPH))}
    agencies = {q.subject for q in exporter.quads if q.predicate == RDF_TYPE and q.object.value.endswith("#SpaceAgency")}
    for agency in agencies:
        for cls in ("https://schema.org/Organization", "http://www.w3.org/ns/org#Organization",
                    "http://www.w3.org/ns/prov#Organization", "http://xmlns.com/foaf/0.1/Organization"):
            assert ox.Triple(agency, RDF_TYPE, ox.NamedNode(cls)) in alignment
    stated_in = ox.NamedNode("https://w3id.org/explore-kg/ontology#statedIn")
    derived = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
    some = next(q for q in exporter.quads if q.predicate == stated_in)
    assert ox.Triple(some.subject, derived, some.object) in alignment


def test_schema_profile_is_schema_org_only_with_inline_context(exporter):
    data = exporter.document("jsonld", profile="schema").data
    doc = json.loads(data)
    assert isinstance(doc["@context"], dict) and doc["@context"]["@vocab"] == SCHEMA
    assert b'"@context": "http' not in data  # never a remote context
    parsed = parse(data, "jsonld")
    description = {t.subject for t in triples_of(parsed) if t.predicate.value.startswith(VOID)}
    content = [q for q in parsed if q.subject not in description
               and q.subject.value != "https://w3id.org/explore-kg/ontology"]
    assert content
    assert all(q.predicate == RDF_TYPE or q.predicate.value.startswith(SCHEMA) for q in content)
    assert all(q.object.value.startswith(SCHEMA) for q in content if q.predicate == RDF_TYPE)
    types = {q.object.value for q in content if q.predicate == RDF_TYPE}
    predicates = {q.predicate.value for q in content}
    assert {SCHEMA + "Organization", SCHEMA + "GovernmentOrganization"} <= types
    assert {SCHEMA + "name", SCHEMA + "subjectOf"} <= predicates
    jaxa = next(n for n in doc["@graph"] if n["@id"] == "agency:jaxa")
    assert "Organization" in jaxa["@type"] and "name" in jaxa


WIKIDATA_FIXTURE = """
@prefix ekg: <https://w3id.org/explore-kg/ontology#> .
@prefix src: <https://w3id.org/explore-kg/source/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix t: <https://w3id.org/explore-kg/id/test/> .

src:export-wikidata-fixture a ekg:SourceDocument ; rdfs:label "fixture"@en .
t:agency a ekg:SpaceAgency ; rdfs:label "Test Agency"@en ; ekg:country t:land ;
    skos:exactMatch wd:Q900001 .
t:land a ekg:Country ; rdfs:label "Testland"@en ; skos:exactMatch wd:Q900002 .
t:person a ekg:Person ; rdfs:label "A. Person"@en ; skos:exactMatch wd:Q900003 .
t:launch a ekg:Mission ; ekg:launchDate "2023-09-07"^^xsd:date ; ekg:startDate "2024"^^xsd:gYear ;
    ekg:plannedLaunchDate "2025"^^ekg:japaneseFiscalYear ; skos:exactMatch wd:Q900004 .
t:unmatched a ekg:Person ; ekg:country t:land .
"""


def test_wikidata_profile_maps_only_matched_entities(tmp_path):
    fixture = tmp_path / "export-wikidata-fixture.ttl"
    fixture.write_text(WIKIDATA_FIXTURE, encoding="utf-8")
    exporter = Exporter(load([fixture]))
    parsed = parse(exporter.document("turtle", profile="wikidata").data, "turtle")
    triples = {(q.subject.value, q.predicate.value, q.object.value) for q in parsed}
    wd = "http://www.wikidata.org/entity/"
    assert (wd + "Q900001", WDT + "P17", wd + "Q900002") in triples
    assert (wd + "Q900003", WDT + "P31", wd + "Q5") in triples
    assert (wd + "Q900002", WDT + "P31", wd + "Q6256") in triples
    assert (wd + "Q900004", WDT + "P619", "2023-09-07T00:00:00Z") in triples
    assert (wd + "Q900004", WDT + "P580", "2024-01-01T00:00:00Z") in triples
    assert not any(s.endswith("test/unmatched") for s, _, _ in triples)
    statements = {(s, p) for s, p, _ in triples if p.startswith(WDT)}
    assert all(s.startswith(wd) for s, _ in statements)
    assert (wd + "Q900004", WDT + "P31") not in statements  # no verified Wikidata class for ekg:Mission


# --- VoID / DCAT description ----------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["asserted", "all"])
def test_void_counts_equal_the_real_counts(exporter, content):
    doc = exporter.document("trig", content=content)
    parsed = parse(doc.data, "trig")
    void_graph = ox.NamedNode(str(DESCRIPTION_GRAPH))
    data = [q for q in parsed if q.graph_name != void_graph]
    description = [q for q in parsed if q.graph_name == void_graph]
    ds = ox.NamedNode(dataset_iri("core", content, None))

    def value(s, p):
        return next(q.object for q in description if q.subject == s and q.predicate.value == p)

    assert int(value(ds, VOID + "triples").value) == len(triples_of(data))
    subsets = [q.object for q in description if q.subject == ds and q.predicate.value == VOID + "subset"]
    graphs = {q.graph_name for q in data}
    assert len(subsets) == len(graphs)
    for subset in subsets:
        graph = value(subset, "http://www.w3.org/ns/sparql-service-description#name")
        assert int(value(subset, VOID + "triples").value) == len(triples_of(q for q in data if q.graph_name == graph))
    entities = {q.subject for q in data if q.subject.value.startswith("https://w3id.org/explore-kg/id/")}
    assert int(value(ds, VOID + "entities").value) == len(entities)
    if content == "all":
        assert ox.NamedNode(str(INFERRED_GRAPH)) in graphs


def test_description_carries_licence_sources_and_ontology_version(exporter):
    g = Graph().parse(data=exporter.document("turtle").data, format="turtle")
    from rdflib import URIRef
    from rdflib.namespace import DCTERMS, OWL, RDF

    ds = URIRef(dataset_iri("core", "asserted", None))
    assert (ds, RDF.type, URIRef(VOID + "Dataset")) in g
    assert (ds, RDF.type, URIRef("http://www.w3.org/ns/dcat#Dataset")) in g
    assert (ds, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in g
    assert (ds, DCTERMS.conformsTo, URIRef("https://w3id.org/explore-kg/ontology")) in g
    sources = set(g.objects(ds, DCTERMS.source))
    expected = {URIRef(s) for s in exporter.source_documents}
    assert sources == expected and len(sources) >= 1
    onto = URIRef("https://w3id.org/explore-kg/ontology")
    assert g.value(onto, OWL.versionIRI) is not None and g.value(onto, OWL.versionInfo) is not None
    assert (onto, RDF.type, OWL.Ontology) in g


def test_export_from_a_server_with_inferred_graph_drops_it(loaded):
    """Data served with --inferred carries graph/inferred; export recomputes it, never calls it asserted."""
    extra = ox.Quad(ox.NamedNode("https://w3id.org/explore-kg/id/x/y"), RDF_TYPE,
                    ox.NamedNode("https://example.org/C"), ox.NamedNode(str(INFERRED_GRAPH)))
    from explore_kg.loading import LoadedData

    with_inferred = LoadedData(quads=list(loaded.quads) + [extra])
    assert Exporter(with_inferred).document("nquads").data == Exporter(loaded).document("nquads").data


def test_written_file_names(tmp_path):
    from explore_kg.export import inferred_path

    assert inferred_path(Path("out/explore-kg.ttl")) == Path("out/explore-kg.inferred.ttl")


# --- the schema.org profile: agreements, missions' agencies, claims (issue 14) ------------------------

def _schema_triples(exporter) -> set[tuple[str, str, str]]:
    return {(q.subject.value, q.predicate.value, q.object.value)
            for q in parse(exporter.document("nquads", profile="schema").data, "nquads")}


def test_schema_profile_maps_agreement_dates_and_parties(exporter):
    """Issue 14: the schema.org export dropped agreement dates and parties."""
    triples = _schema_triples(exporter)
    agreement = "https://w3id.org/explore-kg/id/agreement/mmx-cnes-implementation-agreement-2017"
    assert (agreement, SCHEMA + "dateCreated", "2017-04-10") in triples
    creators = {o for s, p, o in triples if s == agreement and p == SCHEMA + "creator"}
    assert creators == {"https://w3id.org/explore-kg/id/agency/cnes", "https://w3id.org/explore-kg/id/agency/jaxa"}
    statement = "https://w3id.org/explore-kg/id/agreement/esa-jaxa-joint-statement-2024"
    assert any(s == statement and p == SCHEMA + "contributor" for s, p, o in triples)  # the signatories


def test_schema_profile_maps_missions_agencies(exporter):
    """Issue 14: the schema.org export dropped missions' agencies."""
    triples = _schema_triples(exporter)
    mmx, jaxa = "https://w3id.org/explore-kg/id/mission/mmx", "https://w3id.org/explore-kg/id/agency/jaxa"
    assert (mmx, SCHEMA + "parentOrganization", jaxa) in triples  # the lead agency
    members = {o for s, p, o in triples if s == mmx and p == SCHEMA + "member"}
    assert {jaxa, "https://w3id.org/explore-kg/id/agency/cnes", "https://w3id.org/explore-kg/id/agency/nasa"} <= members


def test_schema_profile_maps_claims_as_schema_claims(tmp_path):
    """A claim (the spec's ekg:Claim) is a schema:Claim about its subject, appearing in its source."""
    from explore_kg.loading import LoadedData, assign_graphs, parse_file

    fixture = Path(__file__).parent / "fixtures" / "web" / "claims.trig"
    loaded = load()
    extra = LoadedData()
    extra.quads = assign_graphs(fixture, parse_file(fixture))
    exporter = Exporter(LoadedData(quads=loaded.quads + extra.quads))
    triples = _schema_triples(exporter)
    claim = "https://w3id.org/explore-kg/id/claim/lupex-planned-launch-lupex-overview"
    lupex = "https://w3id.org/explore-kg/id/mission/lupex"
    assert (claim, str(RDF_TYPE.value), SCHEMA + "Claim") in triples
    assert (claim, SCHEMA + "about", lupex) in triples and (lupex, SCHEMA + "subjectOf", claim) in triples
    assert (claim, SCHEMA + "appearance", "https://w3id.org/explore-kg/source/lupex-mission-overview") in triples
    assert (claim, SCHEMA + "value", "2024") in triples
    assert (claim, SCHEMA + "keywords", "https://w3id.org/explore-kg/vocab/date-qualifier/by") in triples
    assert not any(s == claim and p == SCHEMA + "subjectOf" for s, p, o in triples)  # appearance, not subjectOf


def test_a_dereferenced_iri_is_written_by_the_exports_writer():
    """One mechanism: the description served at /id/... uses export's serializer and prefixes."""
    from explore_kg.export import WRITE_PREFIXES, describe_document

    mmx, p = ox.NamedNode("https://w3id.org/explore-kg/id/mission/mmx"), ox.NamedNode(
        "https://w3id.org/explore-kg/ontology#leadAgency")
    triples = [ox.Triple(mmx, p, ox.NamedNode("https://w3id.org/explore-kg/id/agency/jaxa"))]
    ttl = describe_document(triples, "turtle", about=mmx.value).decode()
    assert "@prefix mission: <https://w3id.org/explore-kg/id/mission/> ." in ttl
    assert "mission:mmx ekg:leadAgency agency:jaxa ." in ttl
    doc = json.loads(describe_document(triples, "jsonld", about=mmx.value))
    assert doc["@context"] == {k: WRITE_PREFIXES[k] for k in ("agency", "ekg", "mission")}
