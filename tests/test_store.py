"""The on-disk store (issue 10): loaded once, shared read-only by every query worker, reused on restart.

Real servers (tests/conftest.py start_server) on small files; nothing here measures time: "the second
start did not load" is read from the server's log, "the workers share one store" from /proc.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import start_server

from explore_kg.loading import LoadError, load
from explore_kg.server import ServerConfig
from explore_kg.store import DISK_FRAME, open_worker_store, wants_disk
from explore_kg.store.disk import MARKER, STORE_SUBDIR, DiskStore, read_marker, store_key

EX = "https://example.org/"
EKG = "https://w3id.org/explore-kg/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(6)) + " }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def write_data(directory: Path, *, extra: str = "") -> list[Path]:
    """An N-Quads file (two graphs stating one triple twice, a date that gets a claim) and a Turtle
    ontology file with a sub-property axiom (an entailment)."""
    nq = directory / "facts.nq"
    doc = f"<{EX}doc/1>"
    lines = [
        f"<{EX}m1> <{EX}leads> <{EX}agency1> {doc} .",
        f"<{EX}m1> <{EX}leads> <{EX}agency1> <{EX}doc/2> .",  # stated by two sources: once in the merge
        f"<{EX}m1> <{EX}name> \"Mission 1\" {doc} .",
        f"<{EX}m1> <{EKG}plannedLaunchDate> \"2027\"^^<{XSD}gYear> {doc} .",
        f"{doc} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EKG}SourceDocument> {doc} .",
    ]
    nq.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    ttl = directory / "schema.ttl"
    ttl.write_text(f"<{EX}leads> <http://www.w3.org/2000/01/rdf-schema#subPropertyOf> <{EX}participant> .\n",
                   encoding="utf-8")
    return [nq, ttl]


def count(url: str, query: str = COUNT) -> int:
    r = httpx.post(url + "/sparql", content=query, timeout=30,
                   headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def worker_pids(server_pid: int) -> list[int]:
    """The server's child processes (its query workers), from /proc (Linux)."""
    found = []
    for task in Path(f"/proc/{server_pid}/task").iterdir():  # workers are started from worker threads
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:  # that thread ended meanwhile
            pass
    return sorted(found)


def open_files(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found.add(os.readlink(fd))
        except OSError:
            continue
    return found


def test_disk_store_holds_what_the_memory_store_holds(tmp_path: Path):
    """Same quads as LoadedData.to_store: date claims, the merge as default graph, the entailments."""
    paths = write_data(tmp_path)
    config = ServerConfig(paths=[str(p) for p in paths], store="disk", store_dir=str(tmp_path / "store"))
    disk = DiskStore.open_or_build(config)
    memory = load(paths, shipped=False).to_store(entailed=True)
    assert set(disk.store) == set(memory)
    merged = list(disk.store.quads_for_pattern(ox.NamedNode(EX + "m1"), ox.NamedNode(EX + "leads"), None,
                                               ox.DefaultGraph()))
    assert len(merged) == 1  # two sources state it: one triple in the default graph, no duplicated solutions
    assert disk.sizes[""] == len(list(memory.quads_for_pattern(None, None, None, ox.DefaultGraph())))
    assert disk.entailed and disk.built


def test_trig_default_graph_and_named_graphs_stream_as_the_loader_reads_them(tmp_path: Path):
    trig = tmp_path / "mixed.trig"
    trig.write_text(f"""<{EX}a> <{EX}p> "in the default graph" .
<{EX}g1> {{ <{EX}a> <{EX}p> "in g1" . <{EX}a> <{EX}p> "in the default graph" . }}
<{EX}g2> {{ <{EX}b> <{EKG}plannedLaunchDate> "2030-05"^^<{XSD}gYearMonth> . }}
""", encoding="utf-8")
    config = ServerConfig(paths=[str(trig)], store="disk", store_dir=str(tmp_path / "store"))
    disk = DiskStore.open_or_build(config)
    assert set(disk.store) == set(load([trig], shipped=False).to_store(entailed=True))
    assert disk.loaded.graph_files == {EX + "g1": str(trig), EX + "g2": str(trig)}


def test_worker_frame_opens_the_store_read_only(tmp_path: Path):
    paths = write_data(tmp_path)
    config = ServerConfig(paths=[str(p) for p in paths], store="disk", store_dir=str(tmp_path / "store"))
    disk = DiskStore.open_or_build(config)
    frame = disk.worker_frame()
    assert frame.startswith(DISK_FRAME)
    store = open_worker_store(frame)
    assert len(store) == len(disk.store)
    with pytest.raises((OSError, RuntimeError), match="read-write|read-only|Read"):
        store.add(ox.Quad(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "b"), ox.NamedNode(EX + "c")))


def test_auto_backend_is_memory_for_small_files_and_disk_with_a_directory(tmp_path: Path):
    paths = write_data(tmp_path)
    assert not wants_disk("auto", None, paths)
    assert wants_disk("auto", tmp_path / "store", paths)
    assert wants_disk("disk", None, [])
    assert not wants_disk("memory", tmp_path / "store", paths)


def test_key_changes_with_content_of_same_size_and_with_options(tmp_path: Path):
    paths = write_data(tmp_path)
    key = store_key(paths, entailed=True, inferred=False)
    assert key == store_key(paths, entailed=True, inferred=False)
    assert key != store_key(paths, entailed=False, inferred=False)
    text = paths[0].read_text()
    paths[0].write_text(text.replace("Mission 1", "Mission 2"))  # same size, other content
    assert store_key(paths, entailed=True, inferred=False) != key


def test_workers_share_one_store_and_a_restart_reuses_it(tmp_path: Path):
    """Every worker opens the same store directory (no copy of its own, nothing sent over its socket);
    a second start with the same inputs opens the store as it is, without loading."""
    paths = [str(p) for p in write_data(tmp_path)]
    store_dir = tmp_path / "store"
    args = ("--store-dir", str(store_dir), "--workers", "2", *paths)
    with start_server(*args) as server:
        assert "building the store" in server.log
        first = count(server.url)
        for _ in range(1200):  # the spare starts once the two active workers are ready
            if httpx.get(server.url + "/health", timeout=30).json()["spares_ready"] == 1:
                break
            time.sleep(0.1)
        pids = worker_pids(server.process.pid)
        assert len(pids) == 3  # 2 active workers and the spare (serve --spare-workers: 1 by default on disk)
        for pid in pids:  # each worker holds the store's files open: the page cache holds them once
            assert any(f.startswith(str(store_dir / STORE_SUBDIR)) for f in open_files(pid)), pid
        built = read_marker(store_dir)["built"]
    with start_server(*args) as server:
        assert "reusing the store" in server.log
        assert "building the store" not in server.log
        assert count(server.url) == first
        # the pages app is built in a thread once SPARQL is answered: asked for at once, pages wait for it
        api = httpx.get(server.url + "/openapi.json", timeout=60)
        assert api.status_code == 200 and "/sparql" in api.json()["paths"] and "/health" in api.json()["paths"]
        home = httpx.get(server.url + "/", headers={"Accept": "text/html"}, timeout=60)
        assert home.status_code == 200 and "<html" in home.text.lower()
        assert httpx.get(server.url + "/health", timeout=30).json()["pages_ready"] is True
        assert "pages and APIs ready" in server.log
    assert read_marker(store_dir)["built"] == built


def test_half_built_store_is_rebuilt_not_served(tmp_path: Path):
    """A store directory without the completion marker (a load killed half way) is never served."""
    paths = [str(p) for p in write_data(tmp_path)]
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    partial = ox.Store(str(store_dir / STORE_SUBDIR))  # what a killed load leaves: some quads, no marker
    partial.add(ox.Quad(ox.NamedNode(EX + "half"), ox.NamedNode(EX + "loaded"), ox.Literal("only")))
    partial.flush()
    del partial
    assert not (store_dir / MARKER).exists()
    with start_server("--store-dir", str(store_dir), "--workers", "2", *paths) as server:
        assert re.search(r"incomplete \(no completion marker\): rebuilding", server.log)
        assert count(server.url, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{EX}half> ?p ?o }}") == 0
        assert count(server.url, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{EX}m1> <{EX}leads> ?o }}") == 1
    assert read_marker(store_dir)["key"]


def test_changed_input_file_invalidates_the_store(tmp_path: Path, monkeypatch):
    """Without --store-dir the store lives in the cache directory, keyed by the inputs: a changed file
    gets a new store; the old one is never served for it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    paths = [str(p) for p in write_data(tmp_path)]
    with start_server("--store", "disk", "--workers", "2", *paths) as server:
        assert "building the store" in server.log
        before = count(server.url)
    write_data(tmp_path, extra=f"<{EX}m2> <{EX}name> \"Mission 2\" <{EX}doc/1> .\n")
    with start_server("--store", "disk", "--workers", "2", *paths) as server:
        assert "building the store" in server.log and "reusing" not in server.log
        assert count(server.url) == before + 1
    stores = list((tmp_path / "cache" / "explore-kg" / "stores").iterdir())
    assert len(stores) == 2 and all((s / MARKER).exists() for s in stores)


def test_a_worker_past_its_deadline_is_killed_and_replaced(tmp_path: Path):
    """The worker design stays: a query past its deadline is stopped (503) and its worker replaced by
    one that opens the same store (the spare, when it is ready, then a new spare)."""
    paths = [str(p) for p in write_data(tmp_path)]
    with start_server("--store-dir", str(tmp_path / "store"), "--workers", "2", "--timeout", "1", *paths) as server:
        before = set(worker_pids(server.process.pid))
        r = httpx.post(server.url + "/sparql", content=SLOW_QUERY, timeout=30,
                       headers={"Content-Type": "application/sparql-query"})
        assert r.status_code == 503, r.text
        for _ in range(600):
            health = httpx.get(server.url + "/health", timeout=30).json()
            if health["stats"]["respawns"] >= 1 and health["workers_ready"] == 2 and health["spares_ready"] == 1:
                break
            time.sleep(0.1)
        after = set(worker_pids(server.process.pid))
        assert health["stats"]["timeouts"] >= 1 and health["stats"]["respawns"] >= 1
        assert len(after) == 3 and after != before  # 2 active workers and a spare
        assert count(server.url) > 0


def test_a_syntax_error_names_file_line_and_column_and_leaves_no_store(tmp_path: Path):
    bad = tmp_path / "bad.nq"
    bad.write_text(f"<{EX}a> <{EX}b> <{EX}c> .\n<{EX}a> <{EX}b> \"unterminated .\n", encoding="utf-8")
    config = ServerConfig(paths=[str(bad)], store="disk", store_dir=str(tmp_path / "store"))
    with pytest.raises(LoadError) as caught:
        DiskStore.open_or_build(config)
    assert caught.value.path == str(bad) and caught.value.line == 2 and caught.value.column
    assert not (tmp_path / "store" / MARKER).exists()


def test_a_directory_that_is_not_a_store_is_refused(tmp_path: Path):
    paths = write_data(tmp_path)
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "notes.txt").write_text("mine")
    config = ServerConfig(paths=[str(p) for p in paths], store="disk", store_dir=str(tmp_path / "store"))
    with pytest.raises(LoadError, match="not an explore-kg store directory"):
        DiskStore.open_or_build(config)
    assert (tmp_path / "store" / "notes.txt").read_text() == "mine"


def test_a_store_being_served_is_not_rebuilt_for_other_inputs(tmp_path: Path):
    """Two servers may share a store of the same inputs; one of other inputs must not rebuild it
    under the first (whose workers have it open)."""
    paths = [str(p) for p in write_data(tmp_path)]
    config = ServerConfig(paths=paths, store="disk", store_dir=str(tmp_path / "store"))
    serving = DiskStore.open_or_build(config)
    again = DiskStore.open_or_build(config)  # same inputs: shared
    assert not again.built
    other = ServerConfig(paths=paths, store="disk", store_dir=str(tmp_path / "store"), entailed=False)
    with pytest.raises(LoadError, match="served by another explore-kg server"):
        DiskStore.open_or_build(other)
    assert read_marker(tmp_path / "store")["key"] == serving.marker["key"]


def test_oxigraph_union_modes_duplicate_solutions_so_the_default_graph_is_materialised():
    """Why the store holds the merge in its default graph: Oxigraph's union default graph (and a FROM
    list) returns one solution per graph stating a triple; the materialised merge returns one."""
    store = ox.Store()
    store.load(f"<{EX}a> <{EX}p> <{EX}b> <{EX}g1> .\n<{EX}a> <{EX}p> <{EX}b> <{EX}g2> .\n".encode(),
               format=ox.RdfFormat.N_QUADS)
    query = f"SELECT ?o WHERE {{ <{EX}a> <{EX}p> ?o }}"
    assert len(list(store.query(query, use_default_graph_as_union=True))) == 2
    assert len(list(store.query(query, default_graph=[ox.NamedNode(EX + "g1"), ox.NamedNode(EX + "g2")]))) == 2
    loaded = load([], shipped=False)
    loaded.quads = list(ox.parse(b"".join(q.encode() for q in (
        f"<{EX}a> <{EX}p> <{EX}b> <{EX}g1> .\n", f"<{EX}a> <{EX}p> <{EX}b> <{EX}g2> .\n")), format=ox.RdfFormat.N_QUADS))
    assert len(list(loaded.to_store().query(query))) == 1


def _streamed(tmp_path: Path, path: Path) -> ox.Store:
    """``path`` loaded by the large-file path (store.bulk), whatever its size."""
    from explore_kg.loading import rdf_format
    from explore_kg.store.bulk import stream_file

    store = ox.Store(str(tmp_path / "streamed"))
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    seen = []
    stream_file(store, path, rdf_format(path), [], lambda n, pos: seen.append(n), scratch)
    assert sum(seen) > 0 and not list(scratch.iterdir())  # progress reported, temporary files removed
    return store


def _without_blank_nodes(quads) -> set:
    return {q for q in quads if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)}


@pytest.mark.parametrize("name", ["facts.nq", "doc.ttl", "doc.nt", "mixed.trig"])
def test_streamed_large_file_path_gives_what_the_loader_gives(tmp_path: Path, name: str):
    """The one-pass bulk load of big files (store/bulk.py) holds the same quads as loading.load(): the
    graphs, the date claims, ekg:statedIn, the merge in the default graph (blank nodes aside: their
    labels are the bulk loader's)."""
    write_data(tmp_path)
    shipped = sorted((Path(__file__).resolve().parent.parent / "data").glob("**/*.ttl"))[0]
    doc = tmp_path / "doc.ttl"
    doc.write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    nt = tmp_path / "doc.nt"
    nt.write_bytes(ox.serialize(ox.parse(path=doc, base_iri=doc.resolve().as_uri()), format=ox.RdfFormat.N_TRIPLES))
    (tmp_path / "mixed.trig").write_text(f"""<{EX}a> <{EX}p> "in the default graph" .
<{EX}g1> {{ <{EX}a> <{EX}p> "in g1" . <{EX}a> <{EX}p> "in the default graph" . _:x <{EX}p> _:y . }}
<{EX}g2> {{ <{EX}b> <{EKG}plannedLaunchDate> "2030-05"^^<{XSD}gYearMonth> . }}
# a comment
""", encoding="utf-8")
    path = tmp_path / name
    streamed = _streamed(tmp_path, path)
    expected = load([path], shipped=False).to_store()
    assert _without_blank_nodes(streamed) == _without_blank_nodes(expected)
    assert len(streamed) == len(expected)
    assert any(q.predicate.value == EKG + "claimValue" for q in streamed) or name == "mixed.trig"


def test_streamed_file_goes_in_batches_and_a_blank_node_stays_one_node(tmp_path: Path, monkeypatch):
    """store/bulk.py loads a big file in several bulk_load calls (the loader's memory grows with a
    call's quads); a blank node named on the first line and on the last is still one node, with its
    date claim, and every quad is there."""
    import explore_kg.store.bulk as bulk

    monkeypatch.setattr(bulk, "BATCH_BYTES", 4096)
    path = tmp_path / "big.nq"
    lines = [f'_:b1 <{EX}name> "first" <{EX}g> .\n']
    lines += [f'<{EX}e{i}> <{EX}name> "entity {i}" <{EX}g{i % 7}> .\n' for i in range(2000)]
    lines += [f'_:b1 <{EKG}plannedLaunchDate> "2031"^^<{XSD}gYear> <{EX}g> .\n',
              f'<{EX}e1> <{EX}knows> _:b1 <{EX}g2> .\n']
    path.write_text("".join(lines), encoding="utf-8")
    calls = []
    real = bulk._Doubled.next_batch

    def next_batch(self):
        more = real(self)
        calls.append(more)
        return more

    monkeypatch.setattr(bulk._Doubled, "next_batch", next_batch)
    store = ox.Store(str(tmp_path / "streamed"))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    bulk.stream_file(store, path, ox.RdfFormat.N_QUADS, [], lambda n, pos: None, scratch)
    assert calls.count(True) > 3  # batches of 4 KB (then the blank nodes' call)
    expected = load([path], shipped=False).to_store()
    assert len(store) == len(expected)
    rows = list(store.query(f"""SELECT ?b ?claim WHERE {{ GRAPH <{EX}g> {{ ?b <{EX}name> "first" ;
        <{EKG}plannedLaunchDate> ?d ; <{EKG}claim> ?claim }} GRAPH <{EX}g2> {{ <{EX}e1> <{EX}knows> ?b }} }}"""))
    assert len(rows) == 1


@pytest.mark.parametrize(("name", "text", "line"), [
    ("bad.nq", f"<{EX}a> <{EX}b> <{EX}c> <{EX}g> .\n<{EX}a> <{EX}b> <{EX}c> <{EX}g> .\n<{EX}a> <{EX}b> \"open .\n", 3),
    ("bad.ttl", f"<{EX}a> <{EX}b> <{EX}c> .\n\n<{EX}a> <{EX}b> <{EX}c> ;\n  <{EX}d> \"x\" \"y\" .\n", 4),
])
def test_streamed_syntax_error_names_the_files_own_line(tmp_path: Path, name: str, text: str, line: int):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        _streamed(tmp_path, path)
    assert caught.value.path == str(path) and caught.value.line == line and caught.value.column


def test_validate_takes_the_scalable_path_for_large_inputs(tmp_path: Path, monkeypatch, capsys):
    """Above large_inputs.LARGE_BYTES: no pyshacl/owlrl (said on stderr), the shapes' simple
    constraints in SPARQL on an on-disk store. A few bad triples among many good ones: each is reported
    once, with its rule, focus, file and line (for a missing property, the focus node's first line), and
    nothing about the good ones; a syntax error stops it with the line (status 2)."""
    import explore_kg.large_inputs as large
    from explore_kg.validation import validate

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(large, "LARGE_BYTES", 0)
    kg, rdf_type = "https://w3id.org/explore-kg/", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    doc = f"<{kg}source/big-doc>"
    lines = [f"<{kg}id/agency/o{i}> {rdf_type} <{EKG}SpaceAgency> {doc} ." for i in range(2)]
    lines += [f"<{kg}id/person/p1> {rdf_type} <{EKG}Person> {doc} ."]

    def agreement(name, parties=2, agreement_type=True):
        a = f"<{kg}id/agreement/{name}>"
        out = [f"{a} {rdf_type} <{EKG}Agreement> {doc} ."]
        out += [f"{a} <{EKG}party> <{kg}id/agency/o{i}> {doc} ." for i in range(parties)]
        if agreement_type:
            out.append(f"{a} <{EKG}agreementType> <{kg}vocab/agreement-type/joint-statement> {doc} .")
        out.append(f"{a} <{EKG}signatory> <{kg}id/person/p1> {doc} .")
        return out

    for i in range(1500):  # the good ones
        lines += agreement(f"good{i}")
    bad = {}  # rule -> (focus, the line it must name)

    def add(rule, focus, new_lines, offending):
        lines.extend(new_lines)
        bad[rule] = (focus if "/" in focus else f"{kg}id/agreement/{focus}", len(lines) - len(new_lines) + offending + 1)

    add("agreement-type-missing", "no-type", agreement("no-type", agreement_type=False), 0)  # its first line
    add("agreement-parties-too-few", "one-party", agreement("one-party", parties=1), 1)  # its one party
    wrong = agreement("wrong-signatory")
    wrong[-1] = wrong[-1].replace("person/p1", "place/paris")
    add("signatory-wrong-class", "wrong-signatory", wrong, len(wrong) - 1)
    text = agreement("text-party")
    text.insert(2, f'<{kg}id/agreement/text-party> <{EKG}party> "JAXA" {doc} .')
    add("party-is-text", "text-party", text, 2)
    position = f"<{kg}id/position/two-holders>"
    add("holder-multiple", position[1:-1], [
        f"{position} {rdf_type} <{EKG}Position> {doc} .", f"{position} <{EKG}role> <{kg}vocab/role/president> {doc} .",
        f"{position} <{EKG}inOrganisation> <{kg}id/agency/o0> {doc} .",
        *(f"{position} <{EKG}holder> <{kg}id/person/p{i}> {doc} ." for i in (1, 2))], 3)  # its first holder
    add("participant-count-malformed", f"{kg}id/event/e1",
        [f'<{kg}id/event/e1> <{EKG}participantCountAbove> "many" {doc} .'], 0)
    treaty = [f"<{EX}Treaty> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{EKG}Agreement> {doc} .",
              *agreement("treaty-no-type", agreement_type=False)]  # a subclass the data declares: a target too
    treaty[1] = treaty[1].replace(f"<{EKG}Agreement>", f"<{EX}Treaty>")
    lines.append(f"<{kg}id/contribution/c1> <{EKG}contributor> <{kg}id/agency/o1> {doc} .")  # an agency: good
    lines.extend(treaty)
    also = [("agreement-type-missing", (f"{kg}id/agreement/treaty-no-type", len(lines) - len(treaty) + 2))]
    lines.append(f"<{kg}id/person/p2> {rdf_type} <{EKG}Person> {doc} .")
    lines += agreement(f"good{len(lines)}")
    big = tmp_path / "big.nq"
    big.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validate([big])
    assert "do not scale" in capsys.readouterr().err
    got = {(r.rule, r.focus, r.line) for r in report.results if r.file and r.file.endswith("big.nq")}
    assert got == {(rule, focus, line) for rule, (focus, line) in [*bad.items(), *also]}, report.results
    text_party = next(r for r in report.results if r.rule == "party-is-text")
    assert text_party.value == "JAXA" and text_party.column == lines[bad["party-is-text"][1] - 1].index('"JAXA"') + 1
    assert report.status == 1
    broken = tmp_path / "broken.nq"
    broken.write_text(f"<{kg}id/agreement/a1> <{EKG}signatory> \"open .\n", encoding="utf-8")
    report = validate([broken])
    assert report.status == 2 and report.results[0].line == 1


def test_validate_of_a_large_input_keeps_the_query_time_limit(tmp_path: Path, monkeypatch, capsys):
    """validate --timeout on the large path: as for query and sparql, a query past its time limit is
    stopped (its child process killed, none left behind) and the exit status is 3."""
    import explore_kg.large_inputs as large
    from explore_kg.validation import run_cli

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(large, "LARGE_BYTES", 0)
    big = tmp_path / "big.nq"
    big.write_text("".join(f"<{EX}e{i}> <{EKG}party> \"text\" <{EX}g> .\n" for i in range(100)), encoding="utf-8")
    before = set(worker_pids(os.getpid()))  # (other tests' servers may be children of this process)
    assert run_cli([str(big)], timeout=1e-6) == 3
    assert "time limit" in capsys.readouterr().err
    assert set(worker_pids(os.getpid())) <= before, "the query's process outlived the command"
    assert run_cli([str(big)], fmt="json") == 1  # (no limit: every check runs)


def test_a_server_killed_while_building_leaves_a_store_that_is_rebuilt(tmp_path: Path):
    """SIGKILL the server half way through loading a big file (the streamed path): its builder dies
    with it, no completion marker is written, and the next start rebuilds the store instead of serving it."""
    from conftest import ServerProcess

    big = tmp_path / "big.nq"
    with big.open("w", encoding="utf-8") as f:
        for i in range(200_000):  # ~22 MB: over store.bulk.STREAM_BYTES, seconds to load
            f.write(f"<{EX}e{i}> <{EX}name> \"Entity {i} with a name long enough\" <{EX}g{i % 50}> .\n")
    store_dir = tmp_path / "store"
    server = ServerProcess("--store-dir", str(store_dir), "--workers", "1", str(big))
    try:
        builder = None
        for _ in range(600):
            children = worker_pids(server.process.pid) if server.alive() else []
            if children and (store_dir / STORE_SUBDIR).exists():
                builder = children[0]
                break
            time.sleep(0.05)
        assert builder is not None, server.log
        time.sleep(0.5)
        server.process.kill()
        server.process.wait(10)
        for _ in range(100):  # PR_SET_PDEATHSIG: the builder ends with the server
            if not Path(f"/proc/{builder}").exists() or "zombie" in Path(f"/proc/{builder}/status").read_text():
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the builder outlived the server")
    finally:
        server.stop()
    assert not (store_dir / MARKER).exists()
    again = ServerProcess("--store-dir", str(store_dir), "--workers", "1", str(big))
    try:
        for _ in range(3000):  # (rebuilding takes a while on a loaded machine: longer than wait_ready's limit)
            if (store_dir / MARKER).exists() or not again.alive():
                break
            time.sleep(0.1)
        again.wait_ready()
        assert re.search(r"incomplete \(no completion marker\): rebuilding", again.log)
        assert count(again.url, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}name> ?o }}") == 200_000
    finally:
        again.stop()
    assert read_marker(store_dir)["triples"] == 200_000
