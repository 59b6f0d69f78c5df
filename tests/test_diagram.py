"""The data-model diagram: a valid SVG drawn from the ontology, and the checked-in copy is current."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

from explore_kg.diagram import build_svg, ontology_graph, read_model
from explore_kg.loading import PROJECT_ROOT

SVG = "{http://www.w3.org/2000/svg}"
MAIN_CLASSES = ["Organisation", "SpaceAgency", "Person", "Position", "Mission", "Programme", "Spacecraft",
                "Instrument", "Place", "Country", "CelestialBody", "Agreement", "Event", "Contribution",
                "SourceDocument"]


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def test_diagram_command_writes_a_valid_svg_of_the_main_classes(tmp_path):
    out = tmp_path / "model.svg"
    run = subprocess.run([sys.executable, "-m", "explore_kg", "diagram", "-o", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    labels = texts(out.read_text(encoding="utf-8"))
    for name in MAIN_CLASSES:
        assert name in labels, name
    # standard super-classes and object-property arrows are drawn
    assert any("schema:Organization" in t for t in labels)
    for prop in ("hostsInstrument", "party", "signatory", "holder", "location"):
        assert prop in labels, prop


def test_every_ontology_class_and_domain_range_property_is_drawn():
    model = read_model(ontology_graph())
    drawn = {card.name for cards in model.groups.values() for card in cards}
    graph = ontology_graph()
    from rdflib import OWL, RDF

    classes = {str(c).split("#")[1] for c in graph.subjects(RDF.type, OWL.Class)
               if str(c).startswith("https://w3id.org/explore-kg/ontology#")}
    assert classes <= drawn
    assert {e.prop for e in model.edges} >= {"hostsInstrument", "party", "holder"}
    grouped = {g for g, cards in model.groups.items() if cards}
    assert {"Agents", "Agreements, events, sources", "Places", "Missions and hardware"} <= grouped


def test_diagram_is_deterministic():
    assert build_svg() == build_svg()


def test_checked_in_diagram_is_current():
    checked_in = (PROJECT_ROOT / "docs" / "data-model.svg").read_text(encoding="utf-8")
    assert checked_in == build_svg(), "docs/data-model.svg is out of date: run `explore-kg diagram`"
