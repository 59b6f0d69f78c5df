"""The one name index: property order, English first, the short-name rule, quads and query rows alike."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Literal, URIRef

from explore_kg.labels import NameIndex, names_query
from explore_kg.namespaces import DCTERMS, EKG, FOAF, RDFS, SKOS

THING = "https://w3id.org/explore-kg/id/mission/thing"
OTHER = "https://w3id.org/explore-kg/id/agreement/other"


def test_full_name_follows_the_property_order_and_prefers_english():
    names = NameIndex()
    names.add(THING, str(EKG.acronym), "THG")
    names.add(THING, str(FOAF.name), "thing by foaf")
    assert names.full(THING) == "thing by foaf"  # any name before an acronym
    names.add(THING, str(DCTERMS.title), "thing by title")
    names.add(THING, str(SKOS.prefLabel), "thing by prefLabel", "en")
    assert names.full(THING) == "thing by prefLabel"
    names.add(THING, str(RDFS.label), "chose", "fr")
    assert names.full(THING) == "chose"  # an rdfs:label in any language beats a prefLabel
    names.add(THING, str(RDFS.label), "thing", "en-GB")
    assert names.full(THING) == "thing"  # English (any en-* tag) first
    names.add(THING, "http://example.org/notAName", "ignored", "en")
    assert names.full(THING) == "thing" and names.full(OTHER) is None


def test_short_name_is_an_acronym_of_three_characters_or_more_else_the_full_name():
    names = NameIndex()
    names.add(THING, str(RDFS.label), "A Long Thing", "en")
    assert names.short(THING) == "A Long Thing"  # no acronym
    names.add(THING, str(EKG.acronym), "ALT")
    assert names.short(THING) == "ALT"
    names.add(OTHER, str(RDFS.label), "An Agreement", "en")
    names.add(OTHER, str(EKG.acronym), "IA")
    assert names.short(OTHER) == "An Agreement"
    assert names.short(OTHER, min_length=1) == "IA"
    names.add("https://w3id.org/explore-kg/id/x", str(EKG.acronym), "X")
    assert names.short("https://w3id.org/explore-kg/id/x") == "X"  # the only name it has


def test_base_index_answers_for_iris_the_page_does_not_name():
    base = NameIndex()
    base.add(THING, str(RDFS.label), "Thing", "en")
    base.add(THING, str(EKG.acronym), "THG")
    page = NameIndex(base=base)
    assert page.full(THING) == "Thing" and page.short(THING) == "THG"
    page.add(THING, str(RDFS.label), "Thing as the query named it")
    assert page.full(THING) == "Thing as the query named it"
    assert list(page) == [THING] and OTHER not in page and page.full(OTHER) is None


def test_quads_keep_file_order_and_query_rows_give_a_repeatable_choice():
    acronym = ox.NamedNode(str(EKG.acronym))
    quads = [ox.Quad(ox.NamedNode(THING), acronym, ox.Literal(text)) for text in ("MEGANE", "GRNS")]
    assert NameIndex().add_quads(quads).short(THING) == "MEGANE"  # the one the author wrote first
    rows = [(URIRef(THING), URIRef(str(EKG.acronym)), Literal(text)) for text in ("MEGANE", "GRNS")]
    assert NameIndex().add_rows(rows).short(THING) == NameIndex().add_rows(rows[::-1]).short(THING) == "GRNS"


def test_names_query_answers_rows_the_index_reads():
    store = ox.Store()
    thing, other = ox.NamedNode(THING), ox.NamedNode(OTHER)
    for s, p, o in [(thing, RDFS.label, ox.Literal("Thing", language="en")),
                    (thing, EKG.acronym, ox.Literal("THG")),
                    (thing, RDFS.seeAlso, ox.NamedNode("https://example.org/")),
                    (other, RDFS.label, ox.Literal("Other", language="en"))]:
        store.add(ox.Quad(s, ox.NamedNode(str(p)), o))
    sparql = names_query([THING, "not an IRI <>"])
    assert "not an IRI" not in sparql and names_query(["not an IRI <>"]) is None
    rows = [(URIRef(r["iri"].value), URIRef(r["property"].value), Literal(r["name"].value, lang=r["name"].language))
            for r in store.query(sparql)]
    names = NameIndex().add_rows(rows)
    assert list(names) == [THING]
    assert (names.full(THING), names.short(THING)) == ("Thing", "THG")
