"""``explore-kg changes export``: the accepted changes of a writable store as edits of ``data/*.ttl``.

The repository stays the source of truth: a curator exports what the live store accepted, reviews the
diff and opens a pull request. For each source document's graph that a change touched, compared with
what its file in ``--out`` loads to (the committed state: the newest snapshot and the log's later
records; a running server is not disturbed):

* only additions: they are appended to the file as one block, after a comment naming the changes, so
  the diff is the new facts and nothing else;
* removals too (or no file yet): the file is written whole from the graph (sorted, its leading
  comment kept);
* an empty graph: its file is removed.

One file per source document, named as the file it was loaded from, else ``<slug>.ttl``. What the loader
adds by itself (``ekg:statedIn``, the claims of date triples) is never written: loading adds it again.
Graphs that are not a source document's (other data) are written as ``<slug>.trig``.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from .changelog import ChangeLog
from .namespaces import EKG, PREFIXES
from .store.writable import CHANGES, MARKER, committed_graph
from .writers import write_trig, write_turtle

_STATED_IN = ox.NamedNode(str(EKG.statedIn))
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SOURCE_DOCUMENT = ox.NamedNode(str(EKG.SourceDocument))
_CLAIM = ox.NamedNode(str(EKG.claim))


def _slug(iri: str) -> str:
    tail = iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in tail) or "graph"


def _header(path: Path) -> str:
    """The leading comment of an existing file, without its '# ' marks."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    out = []
    for line in lines:
        if not line.startswith("#"):
            break
        out.append(line[1:].removeprefix(" "))
    return "\n".join(out)


def author_quads(quads: list[ox.Quad], graph) -> list[ox.Quad]:
    """The quads of a source graph less what loading adds (its ekg:statedIn, the claims it mints for
    date triples): what its file holds. A minted claim is left out only when loading the rest gives it
    back exactly (an author who edited one keeps it)."""
    from .claims import claim_iri, complete_date_claims
    from .loading import known_date_properties, subproperty_edges

    quads = [q for q in quads if not (q.predicate == _STATED_IN and q.object == graph)]
    dates = known_date_properties(subproperty_edges(quads))
    minted = {claim_iri(q.subject, q.predicate, q.object, graph) for q in quads
              if q.predicate in dates and isinstance(q.object, ox.Literal)}
    rest = [q for q in quads if q.subject not in minted and not (q.predicate == _CLAIM and q.object in minted)]
    derived = set(complete_date_claims(rest, dates))
    if set(rest) | derived == set(quads):
        return rest
    dropped = set(quads) - set(rest)
    kept = dropped - derived  # minted claims loading would not give back whole: keep those claims
    claims = {q.subject for q in kept if q.subject in minted} | {q.object for q in kept if q.predicate == _CLAIM}
    return [q for q in quads if q in set(rest) or q.subject in claims or (q.predicate == _CLAIM and q.object in claims)]


def _append(target: Path, graph, current: list[ox.Quad], *, changes: list) -> bool | None:
    """Append the graph's new quads (``current``: its author's quads) to ``target``; None when it has
    removals (write it whole instead)."""
    from .loading import assign_graphs, parse_file

    written = assign_graphs(target, parse_file(target))
    baseline = {ox.Quad(q.subject, q.predicate, q.object, graph) for q in written}
    authored = set(author_quads(sorted(baseline, key=str), graph))
    now = set(current)
    if authored - now:
        return None
    added = sorted(now - baseline, key=str)
    if not added:
        return False
    text = target.read_text(encoding="utf-8")
    declared = {line.split()[1] for line in text.splitlines() if line.startswith("@prefix ") and len(line.split()) > 1}
    block = write_turtle(added, {p: str(ns) for p, ns in PREFIXES.items()}).decode("utf-8")
    lines = [line for line in block.splitlines() if not (line.startswith("@prefix ") and line.split()[1] in declared)]
    note = "; ".join(f"change {c.seq} by {c.who} at {c.when}" + (f": {c.message}" if c.message else "") for c in changes)
    with open(target, "a", encoding="utf-8") as f:
        f.write(("" if text.endswith("\n") else "\n") + f"\n# Added from the live store ({note}).\n")
        f.write("\n".join(lines).strip("\n") + "\n")
    return True


def export(store_dir: str | Path, out: str | Path, *, since: int = 0) -> list[tuple[str, Path]]:
    """Write the files of the graphs changed after change ``since``; returns (what was done, file)."""
    store_dir, out = Path(store_dir), Path(out)
    if not (store_dir / MARKER).exists():
        raise FileNotFoundError(f"{store_dir} is not a writable explore-kg store (no {MARKER})")
    import json

    marker = json.loads((store_dir / MARKER).read_text(encoding="utf-8"))
    graph_files: dict[str, str] = marker.get("graph_files", {})
    touched = sorted({g for change in ChangeLog(store_dir / CHANGES).records(after=since, quads=False)
                      for g in change.sources})
    out.mkdir(parents=True, exist_ok=True)
    done: list[tuple[str, Path]] = []
    for iri in touched:
        graph = ox.NamedNode(iri)
        committed = committed_graph(store_dir, graph)
        is_source = ox.Quad(graph, _RDF_TYPE, _SOURCE_DOCUMENT, graph) in committed
        quads = author_quads(sorted(committed, key=str), graph)
        original = graph_files.get(iri)
        name = Path(original).name if original and is_source else f"{_slug(iri)}.{'ttl' if is_source else 'trig'}"
        target = out / name
        if not quads:
            if target.exists():
                target.unlink()
                done.append(("removed", target))
            continue
        prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
        if is_source and target.exists():
            appended = _append(target, graph, quads, changes=[c for c in ChangeLog(store_dir / CHANGES).records(
                after=since, quads=False) if iri in c.sources])
            if appended is not None:
                if appended:
                    done.append(("appended", target))
                continue
        header = _header(target) or (_header(Path(original)) if original else "")
        body = write_turtle(quads, prefixes, header) if is_source else write_trig(quads, prefixes, header)
        existed = target.exists()
        target.write_bytes(body)
        done.append(("updated" if existed else "created", target))
    return done


def run_cli(store_dir: str, out: str, since: int = 0) -> int:
    import sys

    try:
        done = export(store_dir, out, since=since)
    except (FileNotFoundError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    for what, path in done:
        print(f"{what} {path}")
    if not done:
        print("no change to export", file=sys.stderr)
    return 0
