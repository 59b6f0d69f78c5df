"""The IRIs the project mints, in one place, so that no module spells a namespace twice.

Ontology terms, instance IRIs, SKOS schemes, source documents and named graphs each live under
their own path of https://w3id.org/explore-kg/ .
"""

import re
from pathlib import Path

from rdflib import Namespace
from rdflib.namespace import (
    DCAT,
    DCTERMS,
    FOAF,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SDO,
    SH,
    SKOS,
    SOSA,
    TIME,
    VOID,
    XSD,
)

BASE = "https://w3id.org/explore-kg/"
EKG = Namespace(BASE + "ontology#")  # classes and properties
ONTOLOGY_IRI = BASE + "ontology"
ID = Namespace(BASE + "id/")  # instances: id/<kind>/<slug>
VOCAB = Namespace(BASE + "vocab/")  # SKOS schemes: vocab/<scheme>/<concept>
SOURCE = Namespace(BASE + "source/")  # source documents; each is also the name of the graph of its facts
GRAPH = Namespace(BASE + "graph/")  # graphs that are not a source: ontology, shapes, inferred
SHAPES = Namespace(BASE + "shapes#")
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")

ONTOLOGY_GRAPH = GRAPH["ontology"]
INFERRED_GRAPH = GRAPH["inferred"]

# Prefixes bound on every graph the project writes, so exports and query results read the same way.
PREFIXES = {
    "ekg": EKG,
    "vocab": VOCAB,
    "src": SOURCE,
    "agency": ID["agency/"],
    "organisation": ID["organisation/"],
    "person": ID["person/"],
    "mission": ID["mission/"],
    "programme": ID["programme/"],
    "spacecraft": ID["spacecraft/"],
    "instrument": ID["instrument/"],
    "vehicle": ID["launch-vehicle/"],
    "body": ID["body/"],
    "place": ID["place/"],
    "country": ID["country/"],
    "agreement": ID["agreement/"],
    "event": ID["event/"],
    "contribution": ID["contribution/"],
    "position": ID["position/"],
    "technology": ID["technology/"],
    "objective": ID["objective/"],
    "claim": ID["claim/"],
    # SKOS concept schemes, one prefix each
    "agreementtype": VOCAB["agreement-type/"],
    "status": VOCAB["mission-status/"],
    "contribrole": VOCAB["contribution-role/"],
    "area": VOCAB["cooperation-area/"],
    "role": VOCAB["role/"],
    "commitment": VOCAB["commitment/"],
    "datequal": VOCAB["date-qualifier/"],
    "sourcekind": VOCAB["source-kind/"],
    "precision": VOCAB["date-precision/"],
    "basis": VOCAB["basis/"],
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "org": ORG,
    "schema": SDO,
    "sosa": SOSA,
    "time": TIME,
    "foaf": FOAF,
    "void": VOID,
    "dcat": DCAT,
    "sh": SH,
    "sd": Namespace("http://www.w3.org/ns/sparql-service-description#"),
    "wd": WD,
    "wdt": WDT,
}


def sparql_prefixes(*names: str) -> str:
    """The SPARQL ``PREFIX`` declarations of the named prefixes of :data:`PREFIXES`, one a line, in that order."""
    return "".join(f"PREFIX {name}: <{PREFIXES[name]}>\n" for name in names)



def _shipped_root() -> Path:
    """Where ontology/, data/ and queries/ live: the checkout's top level (the package's ``shipped/``
    entries are symlinks to it), or, in an installed wheel, the package's own ``shipped/`` copy."""
    shipped = Path(__file__).resolve().parent / "shipped"
    return (shipped / "ontology").resolve().parent


PROJECT_ROOT = _shipped_root()


# How precise a date literal is, by its datatype: dates are stated at the precision a source gives.
DATE_PRECISION = {
    str(XSD.date): "day",
    str(XSD.dateTime): "day",
    str(XSD.gYearMonth): "month",
    str(XSD.gYear): "year",
    str(EKG.japaneseFiscalYear): "Japanese fiscal year",
}


_LOCAL_NAME = re.compile(r"[\w.-]*")


def compact(iri: str) -> str:
    """``mission:mmx`` for an IRI under a known namespace (the longest one wins), else the IRI itself.

    Only where the rest is a plain local name that Turtle and SPARQL accept unescaped (letters, digits,
    ``_ . -``, not ending in ``.``), so the short form can be pasted back into a query.
    """
    best = ""
    found = ""
    for prefix, ns in PREFIXES.items():
        ns = str(ns)
        if iri.startswith(ns) and len(ns) > len(best):
            local = iri[len(ns):]
            if _LOCAL_NAME.fullmatch(local) and not local.endswith("."):
                best, found = ns, prefix
    return f"{found}:{iri[len(best):]}" if best else iri
