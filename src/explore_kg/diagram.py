"""The data-model picture (docs/data-model.svg), drawn from the ontology itself so it cannot drift.

Classes are cards grouped in columns (agents; agreements, events and sources; places and
vocabularies; missions and hardware), sub-classes indented under their parent, each card listing
its standard super-classes (schema.org, ORG, PROV, SOSA, FOAF...). Object properties with a declared
domain and range are labelled arrows; properties with only a range are listed on the card they
point to. Pure Python and plain SVG: no Graphviz or other system binary.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from rdflib import OWL, RDF, RDFS, Graph, URIRef

from .namespaces import EKG, ONTOLOGY_GRAPH, PREFIXES

# Which column a class hierarchy goes in: by its top-most ekg super-class.
GROUPS: list[tuple[str, list[str]]] = [
    ("Agents", ["Organisation", "Person", "Position"]),
    ("Agreements, events, sources", ["Agreement", "Event", "Contribution", "SourceDocument", "Objective"]),
    ("Places", ["Place", "CelestialBody", "SurfaceRegion", "Orbit"]),
    ("Missions and hardware", ["Mission", "Programme", "Spacecraft", "Instrument", "LaunchVehicle", "Technology"]),
]
# Columns: each is a list of groups stacked top to bottom (vocabularies sit under places).
COLUMNS = [["Agents"], ["Agreements, events, sources"], ["Places", "Vocabularies"], ["Missions and hardware"]]
CONCEPT = "skos:Concept"
OTHER = "Other"

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
CARD_W = 300
INDENT = 18
LINE = 14
PAD = 7
GAP = 8
LOOP_ROOM = 120  # room beside the outer columns for arrows between cards of one column
MARGIN = 30
TITLE_H = 70
GROUP_COLOURS = {
    "Agents": "#e8f1fb",
    "Agreements, events, sources": "#fdf3e3",
    "Places": "#e9f6ec",
    "Vocabularies": "#f1ecf8",
    "Missions and hardware": "#fbeaea",
    OTHER: "#f0f0f0",
}
EDGE_COLOURS = ["#1f5fa8", "#b5651d", "#2e7d32", "#7b3fa0", "#c62828", "#00838f", "#6d4c41", "#ad1457"]


@dataclass
class Card:
    name: str  # e.g. "SpaceAgency" or "skos:Concept"
    depth: int
    supers: list[str]
    incoming: list[str] = field(default_factory=list)  # properties with this range and no domain
    outgoing: list[str] = field(default_factory=list)  # properties with this domain and no range
    column: int = 0
    x: float = 0
    y: float = 0
    h: float = 0
    w: float = CARD_W


@dataclass
class Edge:
    prop: str
    source: str
    target: str


@dataclass
class Model:
    groups: dict[str, list[Card]]
    edges: list[Edge]
    untyped: list[str]  # properties with neither domain nor range declared
    title: str


def _short(iri: URIRef | str) -> str:
    iri = str(iri)
    if iri.startswith(str(EKG)):
        return iri[len(str(EKG)):]
    for name, ns in sorted(PREFIXES.items(), key=lambda kv: -len(str(kv[1]))):
        if iri.startswith(str(ns)):
            return f"{name}:{iri[len(str(ns)):]}"
    return iri


def read_model(graph: Graph) -> Model:
    """Classes, their hierarchy, and object properties of the ontology graph."""
    ekg = str(EKG)
    classes = sorted(str(c) for c in graph.subjects(RDF.type, OWL.Class) if str(c).startswith(ekg))
    parents: dict[str, list[str]] = {}
    supers: dict[str, list[str]] = {}
    for c in classes:
        sup = sorted(str(s) for s in graph.objects(URIRef(c), RDFS.subClassOf) if isinstance(s, URIRef))
        parents[c] = [s for s in sup if s in classes]
        supers[c] = [_short(s) for s in sup if not s.startswith(ekg)]
    children: dict[str, list[str]] = defaultdict(list)
    for c in classes:
        if parents[c]:
            children[parents[c][0]].append(c)
    group_of_root = {ekg + root: g for g, roots in GROUPS for root in roots}
    groups: dict[str, list[Card]] = defaultdict(list)

    def walk(c: str, depth: int, group: str) -> None:
        groups[group].append(Card(_short(c), depth, supers[c]))
        for child in sorted(children[c], key=lambda k: _short(k)):
            walk(child, depth + 1, group)

    roots = [c for c in classes if not parents[c]]
    order = {ekg + r: i for _, rs in GROUPS for i, r in enumerate(rs)}
    for root in sorted(roots, key=lambda r: (order.get(r, 99), r)):
        walk(root, 0, group_of_root.get(root, OTHER))

    known = {card.name for cards in groups.values() for card in cards}
    edges: list[Edge] = []
    incoming: dict[str, list[str]] = defaultdict(list)
    untyped: list[str] = []
    for p in sorted(str(p) for p in graph.subjects(RDF.type, OWL.ObjectProperty) if str(p).startswith(ekg)):
        domain = graph.value(URIRef(p), RDFS.domain)
        rng = graph.value(URIRef(p), RDFS.range)
        d = _short(domain) if domain is not None else None
        r = _short(rng) if rng is not None else None
        name = _short(p)
        if r == "skos:Concept":
            r = CONCEPT
        if d in known and (r in known or r == CONCEPT):
            edges.append(Edge(name, d, r))
        elif r in known or r == CONCEPT:
            incoming[r].append(name)
        elif d in known:
            incoming.setdefault(f"from:{d}", []).append(name)
        else:
            untyped.append(name)
    if any(e.target == CONCEPT for e in edges) or incoming.get(CONCEPT):
        groups["Vocabularies"].append(Card(CONCEPT, 0, ["SKOS concept schemes: status, roles, areas..."]))
    for cards in groups.values():
        for card in cards:
            card.incoming = incoming.get(card.name, [])
            card.outgoing = incoming.get(f"from:{card.name}", [])
    title_node = graph.value(URIRef(str(EKG)[:-1]), OWL.versionInfo)
    title = "explore-kg data model" + (f" (ontology {title_node})" if title_node else "")
    return Model(dict(groups), edges, untyped, title)


# --- layout ------------------------------------------------------------------------------------------


def _wrap(text: str, width_px: float, size: float) -> list[str]:
    """Greedy word wrap using an average glyph width (no font metrics needed for a legible result)."""
    max_chars = max(8, int(width_px / (size * 0.56)))
    lines, current = [], ""
    for word in text.split(" "):
        candidate = f"{current} {word}".strip()
        if len(candidate) > max_chars and current:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _card_lines(card: Card) -> list[tuple[str, str]]:
    """(style, text) lines of a card after its title."""
    w = card.w - 2 * PAD
    lines = []
    if card.supers:
        for line in _wrap(" · ".join(card.supers), w, 10.5):
            lines.append(("super", line))
    if card.outgoing:
        for line in _wrap("▸ " + ", ".join(card.outgoing), w, 10.5):
            lines.append(("outgoing", line))
    if card.incoming:
        for line in _wrap("◂ " + ", ".join(card.incoming), w, 10.5):
            lines.append(("incoming", line))
    return lines


def layout(model: Model) -> tuple[float, float]:
    """Place cards in columns, each gap as wide as the arrows crossing it need; returns the canvas size."""
    column_of = {g: i for i, groups in enumerate(COLUMNS) for g in groups}
    for group, cards in model.groups.items():
        for card in cards:
            card.column = column_of.get(group, 0)
    col = {c.name: c.column for cards in model.groups.values() for c in cards}
    crossing = [0] * len(COLUMNS)
    for e in model.edges:
        a, b = sorted((col.get(e.source, 0), col.get(e.target, 0)))
        for gap in range(a, b):
            crossing[gap] += 1
    x = MARGIN + LOOP_ROOM  # room on the left for arrows inside the first column
    height = 0.0
    for i, column in enumerate(COLUMNS):
        y = MARGIN + TITLE_H
        for group in column:
            cards = model.groups.get(group, [])
            if not cards:
                continue
            y += 26  # group title
            for card in cards:
                card.x = x + 10 + card.depth * INDENT
                card.w = CARD_W - card.depth * INDENT
                card.y = y
                card.h = PAD + 15 + LINE * len(_card_lines(card)) + PAD - 2
                y += card.h + GAP
            y += 22
        height = max(height, y)
        x += CARD_W + 20 + (min(240, 70 + 18 * crossing[i]) if i < len(COLUMNS) - 1 else 0)
    other = model.groups.get(OTHER, [])
    if other:
        y = height + 26
        for card in other:
            card.x, card.y = MARGIN + LOOP_ROOM + 10, y
            card.h = PAD + 15 + LINE * len(_card_lines(card)) + PAD - 2
            y += card.h + GAP
        height = y
    return x + LOOP_ROOM + MARGIN, height + 90


# --- drawing ------------------------------------------------------------------------------------------


def render(model: Model) -> str:
    width, height = layout(model)
    cards = {c.name: c for cards in model.groups.values() for c in cards}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}">',
        f"<title>{escape(model.title)}</title>",
        "<defs>",
    ]
    for i, colour in enumerate(EDGE_COLOURS):
        out.append(
            f'<marker id="arrow{i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    out.append(f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>')
    out.append(f'<text x="{MARGIN + LOOP_ROOM}" y="{MARGIN + 22}" font-size="22" font-weight="bold" fill="#222">'
               f"{escape(model.title)}</text>")
    out.append(
        f'<text x="{MARGIN + LOOP_ROOM}" y="{MARGIN + 44}" font-size="12.5" fill="#444">Boxes: classes of '
        "https://w3id.org/explore-kg/ontology# (indented: sub-classes). Grey: standard super-classes. "
        "Arrows: object properties, domain → range. ◂ properties with this range and any domain; "
        "▸ properties with this domain and any range.</text>"
    )
    out.extend(_groups(model))
    edge_svg, label_svg = _edges(model, cards)
    out.extend(edge_svg)
    for card in cards.values():
        out.extend(_card(card))
    out.extend(label_svg)
    if model.untyped:
        y = height - 40
        for i, line in enumerate(_wrap("Between any classes (no domain or range declared): "
                                       + ", ".join(model.untyped), width - 2 * MARGIN, 12.5)):
            out.append(f'<text x="{MARGIN + LOOP_ROOM}" y="{y + i * 16:.0f}" font-size="12.5" fill="#444">{escape(line)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _groups(model: Model) -> list[str]:
    out = []
    for group, cards in model.groups.items():
        if not cards:
            continue
        x0 = min(c.x for c in cards) - 10 - min(c.depth for c in cards) * INDENT
        y0 = min(c.y for c in cards) - 28
        y1 = max(c.y + c.h for c in cards) + 10
        out.append(f'<rect x="{x0:.0f}" y="{y0:.0f}" width="{CARD_W + 20}" height="{y1 - y0:.0f}" rx="10" '
                   f'fill="{GROUP_COLOURS.get(group, "#f4f4f4")}" stroke="#c8c8c8"/>')
        out.append(f'<text x="{x0 + 10:.0f}" y="{y0 + 18:.0f}" font-size="14" font-weight="bold" fill="#333">'
                   f"{escape(group)}</text>")
    return out


def _card(card: Card) -> list[str]:
    out = []
    if card.depth:
        # tree connector from the parent column edge
        px = card.x - INDENT / 2
        out.append(f'<path d="M{px:.1f},{card.y - GAP - 4:.1f} V{card.y + 11:.1f} H{card.x:.1f}" '
                   'fill="none" stroke="#9a9a9a" stroke-width="1"/>')
    out.append(f'<rect x="{card.x:.1f}" y="{card.y:.1f}" width="{card.w:.1f}" height="{card.h:.1f}" rx="4" '
               'fill="#ffffff" stroke="#5f6b7a" stroke-width="1.1"/>')
    out.append(f'<text x="{card.x + PAD:.1f}" y="{card.y + PAD + 11:.1f}" font-size="13" font-weight="bold" '
               f'fill="#111">{escape(card.name)}</text>')
    for i, (style, line) in enumerate(_card_lines(card)):
        colour, extra = {"super": ("#6b6b6b", ""), "outgoing": ("#7a4b00", ' font-style="italic"'),
                         "incoming": ("#1f5fa8", ' font-style="italic"')}[style]
        y = card.y + PAD + 15 + LINE * (i + 1) - 3
        out.append(f'<text x="{card.x + PAD:.1f}" y="{y:.1f}" font-size="10.5" fill="{colour}"{extra}>'
                   f"{escape(line)}</text>")
    return out


def _edges(model: Model, cards: dict[str, Card]) -> tuple[list[str], list[str]]:
    """Curved arrows between cards, with labels on white backgrounds drawn on top of everything."""
    edges = [e for e in model.edges if e.source in cards and e.target in cards]
    ends: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
    sides = []
    for i, e in enumerate(edges):
        s, t = cards[e.source], cards[e.target]
        if s.column == t.column:
            side = "left" if s.column == 0 else "right"
            ss, ts = side, side
        else:
            ss, ts = ("right", "left") if t.column > s.column else ("left", "right")
        sides.append((ss, ts))
        ends[(s.name, ss)].append((t.y, i))
        ends[(t.name, ts)].append((s.y + 0.5, i))
    slot: dict[tuple[str, str, int], int] = {}
    for (name, side), items in ends.items():
        for k, (_, i) in enumerate(sorted(items)):
            slot[(name, side, i)] = k
    paths, labels = [], []
    placed: list[tuple[float, float, float, float]] = []
    for i, e in enumerate(edges):
        s, t = cards[e.source], cards[e.target]
        ss, ts = sides[i]
        colour = EDGE_COLOURS[i % len(EDGE_COLOURS)]
        x1 = s.x + s.w if ss == "right" else s.x
        x2 = t.x + t.w if ts == "right" else t.x
        y1 = s.y + 9 + 6 * slot[(s.name, ss, i)]
        y2 = t.y + 9 + 6 * slot[(t.name, ts, i)]
        if s is t:
            y2 = y1 + 14
        if s.column == t.column:
            out = 1 if ss == "right" else -1
            edge_x = max(x1, x2) if out > 0 else min(x1, x2)
            bulge = 36 + 0.12 * abs(y2 - y1)
            xc = edge_x + out * bulge
            d = f"M{x1:.1f},{y1:.1f} C{xc:.1f},{y1:.1f} {xc:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
            w = len(e.prop) * 6.6 + 8
            # the label sits on the arrow's outer apex, pushed out so that it never covers a card
            lx, ly = edge_x + out * max(0.75 * bulge, w / 2 + 4), (y1 + y2) / 2
        else:
            dx = (x2 - x1) * 0.5
            d = f"M{x1:.1f},{y1:.1f} C{x1 + dx:.1f},{y1:.1f} {x2 - dx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
            lx, ly = (x1 + x2) / 2, (y1 + y2) / 2
        paths.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.4" '
                     f'marker-end="url(#arrow{i % len(EDGE_COLOURS)})" opacity="0.9"/>')
        w = len(e.prop) * 6.6 + 8
        lx, ly = _free_spot(lx, ly, w, placed)
        placed.append((lx - w / 2, ly - 9, w, 14))
        labels.append(f'<rect x="{lx - w / 2:.1f}" y="{ly - 9:.1f}" width="{w:.1f}" height="14" rx="3" '
                      f'fill="#ffffff" fill-opacity="0.92" stroke="{colour}" stroke-width="0.6"/>')
        labels.append(f'<text x="{lx:.1f}" y="{ly + 2:.1f}" font-size="11" text-anchor="middle" '
                      f'fill="{colour}">{escape(e.prop)}</text>')
    return paths, labels


def _free_spot(x: float, y: float, w: float, placed: list[tuple[float, float, float, float]]) -> tuple[float, float]:
    """Move a label down (then up) until it overlaps no label placed before it."""
    for step in range(0, 30):
        for cand in (y + 16 * step, y - 16 * step):
            box = (x - w / 2, cand - 9, w, 14)
            if not any(_overlap(box, p) for p in placed):
                return x, cand
    return x, y


def _overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


# --- entry points ----------------------------------------------------------------------------------


def ontology_graph() -> Graph:
    """The shipped ontology files as one rdflib graph (no instance data needed)."""
    from .loading import load, shipped_ontology_files

    loaded = load(shipped=False, ontology_paths=shipped_ontology_files())
    return loaded.to_dataset().graph(URIRef(str(ONTOLOGY_GRAPH)))


def build_svg(graph: Graph | None = None) -> str:
    return render(read_model(graph if graph is not None else ontology_graph()))


def run_cli(output: str) -> int:
    """The ``explore-kg diagram`` command."""
    from .loading import LoadError

    try:
        svg = build_svg()
    except LoadError as e:
        print(f"explore-kg diagram: {e}", file=sys.stderr)
        return 2
    if output == "-":
        sys.stdout.write(svg)
        return 0
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg, encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


__all__ = ["build_svg", "read_model", "render", "run_cli"]
