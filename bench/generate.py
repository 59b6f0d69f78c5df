"""A seeded generator of synthetic space-cooperation data, shaped like ours, at any size.

Benchmarks need far more triples than the curated graph holds, with the same shape: agencies and
companies in countries, people holding positions, missions led by agencies with partners and
targets, agreements between parties signed by people, contributions, events, and one named graph
per source document (the layout our loader gives to data/*.ttl, including ``ekg:statedIn``).
Every name is synthetic ("Agency 12"), so nothing here claims a real-world fact.

The same ``--seed`` and size give the same bytes (with the same ``ontology/vocabularies.ttl``). Output is
N-Quads (named graphs survive), plus a ``.params.json`` sidecar listing the IRIs and values that
benchmark query templates draw from. The SKOS concepts (agreement types, mission statuses, roles...)
are read from the shipped vocabularies when the data is generated, so every one the data names is
defined there and ``explore-kg validate`` finds nothing to report in generated data.

    python bench/generate.py --triples 100000          # -> bench/data/space-100k-s42.nq
    python bench/generate.py --scale 2 --out /tmp/x.nq  # about 2 x 10,000 triples
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from explore_kg.loading import ONTOLOGY_DIR
from explore_kg.namespaces import EKG, ID, SOURCE, VOCAB

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
DEFAULT_SEED = 42
# Triples one unit of --scale produces; measured (len(generate(1)[0]): 3,689 to 3,775 for seeds 1-5), so
# --triples lands close.
TRIPLES_PER_SCALE = 3_750
# Written into the params sidecar; ensure() makes the data again when a file was made by another version
# (2: concepts from ontology/vocabularies.ttl, positions labelled).
GENERATOR_VERSION = "2"
VOCABULARIES = ONTOLOGY_DIR / "vocabularies.ttl"

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
DCT = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"

# The SKOS schemes the generator draws concepts from (vocab/<scheme>), by the name params use.
SCHEMES = {"agreementtype": "agreement-type", "status": "mission-status", "contribrole": "contribution-role",
           "area": "cooperation-area", "role": "role", "sourcekind": "source-kind"}
BODY_CLASSES = ["Planet", "NaturalSatellite", "Asteroid"]
EVENT_CLASSES = ["Forum", "Meeting", "Review", "Conference", "PublicTalk", "SigningCeremony", "Milestone"]


def ekg(name: str) -> ox.NamedNode:
    return ox.NamedNode(str(EKG[name]))


def iri(kind: str, slug: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}{kind}/{slug}")


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, tuple[ox.NamedNode, ...]]:
    """{params name: the concepts of its scheme in ontology/vocabularies.ttl, in IRI order}."""
    in_scheme = ox.NamedNode("http://www.w3.org/2004/02/skos/core#inScheme")
    found: dict[str, set[ox.NamedNode]] = {name: set() for name in SCHEMES}
    names = {f"{VOCAB}{scheme}": name for name, scheme in SCHEMES.items()}
    for t in ox.parse(path=str(VOCABULARIES), base_iri=VOCABULARIES.resolve().as_uri()):
        if t.predicate == in_scheme and t.object.value in names and isinstance(t.subject, ox.NamedNode):
            found[names[t.object.value]].add(t.subject)
    empty = [SCHEMES[name] for name, concepts in found.items() if not concepts]
    if empty:
        raise SystemExit(f"{VOCABULARIES}: no concepts in scheme(s) {', '.join(empty)}")
    return {name: tuple(sorted(concepts, key=lambda c: c.value)) for name, concepts in found.items()}


def concept(rng: random.Random, name: str) -> ox.NamedNode:
    """A concept of the scheme params call ``name`` (agreementtype, status...), at random."""
    return rng.choice(vocabulary()[name])


def text(value: str) -> ox.Literal:
    return ox.Literal(value, language="en")


def typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(datatype))


def day(d: date) -> ox.Literal:
    return typed(d.isoformat(), XSD + "date")


@dataclass
class Pools:
    """The IRIs made so far, by kind, for later facts to refer to."""

    countries: list[ox.NamedNode] = field(default_factory=list)
    cities: list[ox.NamedNode] = field(default_factory=list)
    bodies: list[ox.NamedNode] = field(default_factory=list)
    agencies: list[ox.NamedNode] = field(default_factory=list)
    companies: list[ox.NamedNode] = field(default_factory=list)
    persons: list[ox.NamedNode] = field(default_factory=list)
    missions: list[ox.NamedNode] = field(default_factory=list)
    agreements: list[ox.NamedNode] = field(default_factory=list)
    contributions: list[ox.NamedNode] = field(default_factory=list)
    events: list[ox.NamedNode] = field(default_factory=list)
    sources: list[ox.NamedNode] = field(default_factory=list)
    labels: dict[ox.NamedNode, ox.Literal] = field(default_factory=dict)
    years: set[int] = field(default_factory=set)


class Generator:
    """Builds the dataset block by block; each block is the facts about one thing, as a source states them."""

    def __init__(self, scale: float, seed: int = DEFAULT_SEED):
        self.rng = random.Random(seed)
        self.scale = scale
        self.pools = Pools()
        self.quads: list[ox.Quad] = []

    def count(self, per_scale: float, minimum: int) -> int:
        return max(minimum, round(per_scale * self.scale))

    # --- entities -----------------------------------------------------------------------------

    def thing(self, node: ox.NamedNode, cls: str, label: str) -> list[tuple]:
        self.pools.labels[node] = text(label)
        return [(node, RDF_TYPE, ekg(cls)), (node, RDFS_LABEL, text(label))]

    def random_day(self, first_year: int = 1990, last_year: int = 2035) -> date:
        start = date(first_year, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(last_year, 12, 31) - start).days))

    def gazetteer(self) -> list[tuple]:
        """Countries, cities and celestial bodies: reference entities every other block points to."""
        r, p, out = self.rng, self.pools, []
        for i in range(min(195, self.count(5, 8))):
            c = iri("country", f"xc-{i:03d}")
            p.countries.append(c)
            out += self.thing(c, "Country", f"Country {i}")
        for i in range(len(p.countries) * 2):
            c = iri("place", f"city-{i:03d}")
            p.cities.append(c)
            out += self.thing(c, "City", f"City {i}") + [(c, ekg("country"), r.choice(p.countries))]
        for i in range(self.count(2, 10)):
            b = iri("body", f"body-{i:03d}")
            p.bodies.append(b)
            out += self.thing(b, BODY_CLASSES[i % 3], f"Body {i}")
        return out

    def organisation(self, kind: str, cls: str, i: int) -> list[tuple]:
        r, p = self.rng, self.pools
        node = iri(kind, f"{kind[0]}{i:04d}")
        (p.agencies if cls == "SpaceAgency" else p.companies).append(node)
        name = f"{'Agency' if cls == 'SpaceAgency' else 'Company'} {i}"
        out = self.thing(node, cls, name) + [
            (node, ekg("acronym"), ox.Literal(f"{kind[0].upper()}{i:03d}")),
            (node, ekg("country"), r.choice(p.countries)),
            (node, ekg("headquarters"), r.choice(p.cities)),
        ]
        if cls == "SpaceAgency" and i > 5 and r.random() < 0.2:
            out.append((node, ekg("parentOrganisation"), r.choice(p.agencies[:5])))
        return out

    def person(self, i: int) -> list[tuple]:
        r, p = self.rng, self.pools
        node = iri("person", f"p{i:05d}")
        p.persons.append(node)
        out = self.thing(node, "Person", f"Person {i}") + [(node, ekg("country"), r.choice(p.countries))]
        for k in range(1 if r.random() < 0.8 else 2):
            pos = iri("position", f"p{i:05d}-{k}")
            org = r.choice(p.agencies) if r.random() < 0.7 else r.choice(p.companies)
            out += [(pos, RDF_TYPE, ekg("Position")), (pos, RDFS_LABEL, text(f"Position {k} of person {i}")),
                    (pos, ekg("holder"), node), (pos, ekg("inOrganisation"), org), (pos, ekg("role"), concept(r, "role")),
                    (pos, ekg("startDate"), day(self.random_day(1990, 2025)))]
        return out

    def partners(self, k: int, agency_share: float = 0.8) -> list[ox.NamedNode]:
        r, p = self.rng, self.pools
        chosen: list[ox.NamedNode] = []
        while len(chosen) < k:
            org = r.choice(p.agencies) if r.random() < agency_share else r.choice(p.companies)
            if org not in chosen:
                chosen.append(org)
        return chosen

    def mission(self, i: int) -> list[tuple]:
        r, p = self.rng, self.pools
        node = iri("mission", f"m{i:05d}")
        leads = self.partners(2 if r.random() < 0.2 else 1, agency_share=1.0)
        out = self.thing(node, "Mission", f"Mission {i}") + [(node, ekg("acronym"), ox.Literal(f"M{i:04d}"))]
        out += [(node, ekg("leadAgency"), a) for a in leads]
        out += [(node, ekg("participant"), o) for o in self.partners(r.randrange(4)) if o not in leads]
        out.append((node, ekg("target"), r.choice(p.bodies)))
        launch = self.random_day(1995, 2035)
        kind = r.random()
        if kind < 0.6:
            out.append((node, ekg("plannedLaunchDate"), day(launch)))
        elif kind < 0.9:
            out.append((node, ekg("plannedLaunchDate"), typed(str(launch.year), XSD + "gYear")))
        else:
            out.append((node, ekg("plannedLaunchDate"), typed(str(launch.year), str(EKG.japaneseFiscalYear))))
        out += [(node, ekg("missionStatus"), concept(r, "status")), (node, ekg("cooperationArea"), concept(r, "area"))]
        if p.missions and r.random() < 0.5:  # heritage chains for property paths
            for earlier in {r.choice(p.missions[-200:]) for _ in range(r.randrange(1, 3))}:
                out.append((node, ekg("buildsOn"), earlier))
        p.missions.append(node)
        for k in range(r.randrange(1, 4)):
            c = iri("contribution", f"m{i:05d}-{k}")
            p.contributions.append(c)
            out += [(c, RDF_TYPE, ekg("Contribution")), (c, RDFS_LABEL, text(f"Contribution {k} to mission {i}")),
                    (c, ekg("contributor"), self.partners(1)[0]), (c, ekg("contributesTo"), node),
                    (c, ekg("contributionRole"), concept(r, "contribrole"))]
        return out

    def agreement(self, i: int) -> list[tuple]:
        r, p = self.rng, self.pools
        node = iri("agreement", f"g{i:05d}")
        p.agreements.append(node)
        signed = self.random_day(1990, 2025)
        p.years.add(signed.year)
        out = self.thing(node, "Agreement", f"Agreement {i}") + [
            (node, ekg("agreementType"), concept(r, "agreementtype")),
            (node, ekg("signingDate"), day(signed)),
        ]
        out += [(node, ekg("party"), o) for o in self.partners(2 + (r.random() < 0.3) + (r.random() < 0.1))]
        out += [(node, ekg("signatory"), r.choice(p.persons)) for _ in range(r.randrange(1, 3))]
        if p.missions and r.random() < 0.7:
            out.append((node, ekg("concerns"), r.choice(p.missions)))
        if r.random() < 0.5:
            out.append((node, ekg("signingPlace"), r.choice(p.cities)))
        return out

    def event(self, i: int) -> list[tuple]:
        r, p = self.rng, self.pools
        node = iri("event", f"e{i:05d}")
        p.events.append(node)
        start = self.random_day(1995, 2026)
        out = self.thing(node, r.choice(EVENT_CLASSES), f"Event {i}") + [
            (node, ekg("startDate"), day(start)),
            (node, ekg("endDate"), day(start + timedelta(days=r.randrange(4)))),
            (node, ekg("host"), r.choice(p.agencies)),
            (node, ekg("location"), r.choice(p.cities)),
        ]
        out += [(node, ekg("participant"), o) for o in self.partners(r.randrange(1, 5))]
        if p.missions and r.random() < 0.4:
            out.append((node, ekg("concerns"), r.choice(p.missions)))
        return out

    # --- documents ----------------------------------------------------------------------------

    def document(self, blocks: list[list[tuple]]) -> None:
        """One synthetic source document: its own description, its facts, now and then the name of an
        agency or mission it mentions (as real sources name what they talk about), and ekg:statedIn
        for every entity it describes, all in the document's own named graph."""
        r, p = self.rng, self.pools
        n = len(p.sources)
        src = ox.NamedNode(f"{SOURCE}bench-doc-{n:05d}")
        p.sources.append(src)
        triples = [(src, RDF_TYPE, ekg("SourceDocument")), (src, ox.NamedNode(DCT + "title"), text(f"Synthetic document {n}")),
                   (src, ekg("sourceKind"), concept(r, "sourcekind")),
                   (src, ekg("published"), day(self.random_day(2000, 2025))),
                   (src, ox.NamedNode(DCT + "publisher"), r.choice(p.agencies))]
        for block in blocks:
            triples += block
        described = {s for s, _, _ in triples}
        mentioned = [o for _, _, o in triples if o in p.labels and o not in described
                     and (o.value.startswith(f"{ID}agency/") or o.value.startswith(f"{ID}mission/"))]
        for o in dict.fromkeys(mentioned):
            if r.random() < 0.3:
                triples.append((o, RDFS_LABEL, p.labels[o]))
        subjects = dict.fromkeys(s for s, _, _ in triples if s.value.startswith(str(ID)))
        triples += [(s, ekg("statedIn"), src) for s in subjects]
        seen: set[tuple] = set()
        for t in triples:
            if t not in seen:
                seen.add(t)
                self.quads.append(ox.Quad(*t, src))

    def documents(self, blocks: list[list[tuple]], per_document: int) -> None:
        for start in range(0, len(blocks), per_document):
            self.document(blocks[start:start + per_document])

    def run(self) -> list[ox.Quad]:
        gazetteer = self.gazetteer()
        agencies = [self.organisation("agency", "SpaceAgency", i) for i in range(self.count(6, 8))]
        companies = [self.organisation("organisation", "Company", i) for i in range(self.count(20, 10))]
        self.documents([gazetteer], 1)
        self.documents(agencies + companies, 40)
        self.documents([self.person(i) for i in range(self.count(60, 20))], 30)
        self.documents([self.mission(i) for i in range(self.count(60, 20))], 6)
        self.documents([self.agreement(i) for i in range(self.count(70, 20))], 10)
        self.documents([self.event(i) for i in range(self.count(30, 10))], 10)
        return self.quads

    def params(self) -> dict[str, list[str]]:
        """Values benchmark templates draw from: IRIs, the years in which agreements were signed, months, days."""
        p = self.pools
        terms = {"agency": p.agencies, "company": p.companies, "person": p.persons, "mission": p.missions,
                 "agreement": p.agreements, "country": p.countries, "body": p.bodies, "city": p.cities,
                 "source": p.sources}
        out = {name: [n.value for n in nodes] for name, nodes in terms.items()}
        things = p.agencies + p.companies + p.persons + p.missions + p.agreements + p.contributions + p.events
        out["entity"] = [n.value for n in things]
        vocab = vocabulary()
        out.update({name: [c.value for c in vocab[name]] for name in ("agreementtype", "area", "role")})
        out["year"] = [str(y) for y in sorted(p.years)]
        out["month"] = [f"{m:02d}" for m in range(1, 13)]
        out["day"] = [f"{d:02d}" for d in range(1, 29)]
        out["generator"] = [GENERATOR_VERSION]
        return out


def generate(scale: float, seed: int = DEFAULT_SEED) -> tuple[list[ox.Quad], dict[str, list[str]]]:
    g = Generator(scale, seed)
    return g.run(), g.params()


def default_path(triples: int, seed: int = DEFAULT_SEED) -> Path:
    size = f"{triples // 1000}k" if triples >= 1000 else str(triples)
    return DATA_DIR / f"space-{size}-s{seed}.nq"


def params_path(data: Path) -> Path:
    return data.with_name(data.name + ".params.json")


def write(path: Path, quads: list[ox.Quad], params: dict[str, list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    ox.serialize(quads, str(tmp), format=ox.RdfFormat.N_QUADS)
    tmp.replace(path)
    params_path(path).write_text(json.dumps(params, indent=1) + "\n", encoding="utf-8")


def _version(data: Path) -> str | None:
    """The generator version a data file's params sidecar names (None: made before there was one)."""
    try:
        return (json.loads(params_path(data).read_text(encoding="utf-8")).get("generator") or [None])[0]
    except (OSError, ValueError):
        return None


def ensure(triples: int, seed: int = DEFAULT_SEED, path: Path | None = None) -> Path:
    """The data file for this size and seed, generated if it is not there yet."""
    path = path or default_path(triples, seed)
    if not path.exists() or not params_path(path).exists() or _version(path) != GENERATOR_VERSION:
        quads, params = generate(triples / TRIPLES_PER_SCALE, seed)
        write(path, quads, params)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--triples", type=int, help="approximate number of quads to write (default 100000)")
    size.add_argument("--scale", type=float, help=f"size multiplier; 1 is about {TRIPLES_PER_SCALE:,} quads")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, help="output .nq file (default bench/data/space-<size>-s<seed>.nq)")
    args = ap.parse_args(argv)
    scale = args.scale if args.scale is not None else (args.triples or 100_000) / TRIPLES_PER_SCALE
    out = args.out or default_path(round(scale * TRIPLES_PER_SCALE), args.seed)
    quads, params = generate(scale, args.seed)
    write(out, quads, params)
    graphs = len({q.graph_name for q in quads})
    print(f"{out}: {len(quads):,} quads in {graphs:,} named graphs (scale {scale:g}, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
