"""The streaming exporter (large inputs) writes the same bytes as the in-memory one, from any quad source."""

from __future__ import annotations

import io
import subprocess
import sys

import pyoxigraph as ox
import pytest

from explore_kg import export_lines, export_streaming
from explore_kg.export import FORMATS, PROFILES, Exporter, ExportError
from explore_kg.export_streaming import StreamingExporter
from explore_kg.loading import load


@pytest.fixture(scope="module")
def shipped():
    loaded = load()
    return Exporter(loaded), StreamingExporter(loaded)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_same_bytes_as_the_in_memory_exporter(shipped, fmt, profile):
    exporter, streaming = shipped
    out = io.BytesIO()
    doc = streaming.write(out, fmt, profile=profile)
    expected = exporter.document(fmt, profile=profile)
    assert out.getvalue() == expected.data
    assert doc.triples == expected.triples and doc.bytes == len(expected.data)


def test_one_graph_and_spilled_runs_give_the_same_bytes(shipped, monkeypatch):
    """Sorted runs spilled to disk and merged (a tiny chunk size) change nothing; nor does --graph."""
    exporter, _ = shipped
    monkeypatch.setattr(export_streaming, "CHUNK", 500)
    streaming = StreamingExporter(load())
    for fmt in ("trig", "turtle", "nquads"):
        out = io.BytesIO()
        streaming.write(out, fmt, graph="lupex-mission-overview")
        assert out.getvalue() == exporter.document(fmt, graph="lupex-mission-overview").data
    out = io.BytesIO()
    streaming.write(out, "turtle")
    assert out.getvalue() == exporter.document("turtle").data


def test_errors_name_what_is_wrong(shipped):
    _, streaming = shipped
    with pytest.raises(ExportError, match="unknown graph 'nope'"):
        streaming.write(io.BytesIO(), "turtle", graph="nope")
    with pytest.raises(ExportError, match="does not scale"):
        streaming.write(io.BytesIO(), "trig", content="all")


def test_from_the_on_disk_store(tmp_path, monkeypatch):
    """A file loaded into the on-disk store and streamed from it: the bytes of the in-memory export of the
    same file, and the blank nodes (random ids in the store) get the same canonical labels."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "data.nq"
    data.write_text(
        '<https://w3id.org/explore-kg/id/agency/x> <http://www.w3.org/2000/01/rdf-schema#label> "X"@en <https://w3id.org/explore-kg/source/s1> .\n'
        '<https://w3id.org/explore-kg/id/agency/x> <https://w3id.org/explore-kg/ontology#partOf> _:b1 <https://w3id.org/explore-kg/source/s1> .\n'
        '_:b1 <http://www.w3.org/2000/01/rdf-schema#label> "part" <https://w3id.org/explore-kg/source/s1> .\n'
        '<https://w3id.org/explore-kg/id/agency/y> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/explore-kg/ontology#Organisation> <https://w3id.org/explore-kg/source/s2> .\n',
        encoding="utf-8")
    from explore_kg.large_inputs import open_disk_store

    served = open_disk_store([data])
    expected = Exporter(load([data], shipped=False))
    streaming = StreamingExporter(served.loaded)
    for fmt in FORMATS:
        out = io.BytesIO()
        streaming.write(out, fmt)
        assert out.getvalue() == expected.document(fmt).data, fmt
    assert b"_:c14n0" in expected.document("nquads").data
    source = "https://w3id.org/explore-kg/source/"
    assert streaming.graphs == StreamingExporter(load([data], shipped=False)).graphs == [source + "s1", source + "s2"]
    out = io.BytesIO()
    streaming.write(out, "turtle", graph="s2")  # a graph known by its slug: the store listed its graphs
    assert out.getvalue() == expected.document("turtle", graph="s2").data


@pytest.mark.parametrize("child", [False, True], ids=["in-process", "child-process"])
def test_store_lines_in_small_batches_and_spilled_runs_give_the_same_bytes(tmp_path, monkeypatch, child):
    """The core profile reads a store's graphs as N-Triples text (dump_graph in this process, or a child
    process's dump of every graph for a large store), handed on a few lines at a time, and only the quads with
    blank nodes become pyoxigraph quads: cut into tiny batches and runs, with escaped literals, datatypes, a
    blank node in two graphs and alignment quads, every format still gives the in-memory exporter's bytes;
    and the source documents found on the way are the ones found by index."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(export_streaming, "CHILD_DUMP_QUADS", 0 if child else 10**9)
    monkeypatch.setattr(export_streaming, "CHUNK", 3)
    monkeypatch.setattr(export_lines.LineBatches, "SIZE", 64)
    ekg, src = "https://w3id.org/explore-kg/ontology#", "https://w3id.org/explore-kg/source/"
    x = "<https://w3id.org/explore-kg/id/agency/x>"
    rows = [
        f'<{src}s1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ekg}SourceDocument> <{src}s1> .',
        f'{x} <http://www.w3.org/2000/01/rdf-schema#label> "X \\"quoted\\" \\n line"@en <{src}s1> .',
        f'{x} <{ekg}acronym> "X"^^<http://www.w3.org/2001/XMLSchema#string> <{src}s1> .',
        f'{x} <{ekg}foundingDate> "1969-10-01"^^<http://www.w3.org/2001/XMLSchema#date> <{src}s1> .',
        f'{x} <{ekg}partOf> _:b1 <{src}s1> .',
        f'_:b1 <http://www.w3.org/2000/01/rdf-schema#label> "part" <{src}s2> .',
        f'{x} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ekg}SpaceAgency> <{src}s2> .',
        f'{x} <{ekg}statedIn> <{src}s2> <{src}s2> .',
    ]
    data = tmp_path / "data.nq"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    from explore_kg.large_inputs import open_disk_store

    served = open_disk_store([data])
    assert hasattr(served.loaded.quads, "dump_graph")
    expected = Exporter(load([data], shipped=False))
    for fmt in ("nquads", "turtle", "trig") if child else FORMATS:  # (a child per document: ~1 s each, loaded)
        streaming = StreamingExporter(served.loaded)
        out = io.BytesIO()
        streaming.write(out, fmt)
        assert out.getvalue() == expected.document(fmt).data, fmt
        assert streaming.source_documents == StreamingExporter(served.loaded).source_documents == {src + "s1"}
    out = io.BytesIO()
    StreamingExporter(served.loaded).write(out, "trig", graph="s2")
    assert out.getvalue() == expected.document("trig", graph="s2").data


def test_the_commands_on_a_large_file(tmp_path):
    """`explore-kg export FILE` on a file over the threshold: the on-disk path, said on stderr, a whole file;
    `sparql` and `query` on the same file reuse its store; --inferred is refused in one line. (~20 s: the one
    end-to-end test of the large-input path, a 17 MB file through the store builder; everything else here
    runs on the shipped data.)"""
    data = tmp_path / "big.nt"
    with open(data, "w", encoding="utf-8") as f:
        pad = "x" * 200
        for i in range(17 * 1024 * 1024 // 300 + 1):
            f.write(f'<https://w3id.org/explore-kg/id/agency/a{i}> <http://www.w3.org/2000/01/rdf-schema#label> "{pad}{i}" .\n')
    out = tmp_path / "out.nt"
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "explore_kg", "export", str(data), "-f", "ntriples", "-o", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "on-disk store" in done.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == sorted(set(lines))
    assert sum(1 for line in lines if "rdf-schema#label" in line) == 17 * 1024 * 1024 // 300 + 1
    assert list(ox.parse(path=str(out), format=ox.RdfFormat.N_TRIPLES))
    refused = subprocess.run([sys.executable, "-m", "explore_kg", "export", str(data), "-f", "trig", "--inferred"],
                             capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 2 and "does not scale" in refused.stderr and "Traceback" not in refused.stderr
    # query and sparql on the same file open the same on-disk store (nothing is loaded again)
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    asked = subprocess.run([sys.executable, "-m", "explore_kg", "sparql", count, str(data), "-f", "csv"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert asked.returncode == 0, asked.stderr
    assert "store complete" not in asked.stderr and "on-disk store" in asked.stderr
    assert asked.stdout.split() == ["n", str(17 * 1024 * 1024 // 300 + 1)]
    saved = subprocess.run([sys.executable, "-m", "explore_kg", "query", "source-catalogue", str(data), "-f", "csv"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert saved.returncode == 0, saved.stderr
    inferred = subprocess.run([sys.executable, "-m", "explore_kg", "sparql", count, str(data), "--inferred"],
                              capture_output=True, text=True, env=env, timeout=300)
    assert inferred.returncode == 2 and "does not scale" in inferred.stderr and "Traceback" not in inferred.stderr
