"""The change log and ``changes export``: accepted writes become edits of data/<source>.ttl that validate
and that, loaded again, give the same graph as the store. In-process: a real writable store and writer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from explore_kg.changelog import ChangeLog
from explore_kg.changes_export import export
from explore_kg.commit import Writer
from explore_kg.gate import run_update
from explore_kg.loading import load, shipped_data_files
from explore_kg.namespaces import sparql_prefixes
from explore_kg.server import ServerConfig
from explore_kg.store.writable import CHANGES, FollowerStore, WritableStore
from explore_kg.validation import validate

SOURCE = "https://w3id.org/explore-kg/source/esa-jaxa-cooperation-news"
FILE = "esa-jaxa-cooperation-news.ttl"
PREFIXES = sparql_prefixes("ekg", "rdfs", "agreement", "agency", "agreementtype", "xsd")
ADD = PREFIXES + f"""INSERT DATA {{ GRAPH <{SOURCE}> {{
  agreement:exported a ekg:Agreement ; rdfs:label "Exported agreement"@en ;
    ekg:agreementType agreementtype:letter-of-intent ; ekg:party agency:esa, agency:jaxa ;
    ekg:signingDate "2024-05-01"^^xsd:date . }} }}"""
REMOVE = PREFIXES + f"""DELETE DATA {{ GRAPH <{SOURCE}> {{
  agreement:esa-crossu-letter-of-intent rdfs:label "ESA–CrossU letter of intent"@en }} }} ;
INSERT DATA {{ GRAPH <{SOURCE}> {{
  agreement:esa-crossu-letter-of-intent rdfs:label "ESA and CrossU letter of intent"@en }} }}"""


@pytest.fixture(scope="module")
def writer(tmp_path_factory):
    directory = tmp_path_factory.mktemp("changes") / "store"
    served = WritableStore.open(ServerConfig(writable=True, store_dir=str(directory)))
    writer = Writer(served, tokens={}, curated=True, shapes=None)
    yield writer
    writer.close()


def _write(writer: Writer, update: str, message: str):
    outcome = writer.write(lambda store: run_update(store, update, base=None), who="tester", message=message)
    assert outcome.accepted, outcome.report.to_json()
    return outcome


def _graph(quads, graph: str) -> set:
    g = ox.NamedNode(graph)
    stated = ox.NamedNode("https://w3id.org/explore-kg/ontology#statedIn")
    return {ox.Quad(q.subject, q.predicate, q.object) for q in quads if q.graph_name == g and q.predicate != stated}


def _data_copy(tmp_path: Path) -> Path:
    out = tmp_path / "data"
    out.mkdir()
    for f in shipped_data_files():
        shutil.copy(f, out / f.name)
    return out


def test_changes_are_logged_with_who_when_and_message(writer):
    outcome = _write(writer, ADD, "Add an exported agreement")
    change = outcome.change
    logged = list(ChangeLog(writer.served.directory / CHANGES).records())
    assert logged[-1].seq == change.seq and logged[-1].who == "tester"
    assert logged[-1].message == "Add an exported agreement" and SOURCE in logged[-1].sources
    assert set(logged[-1].added) == outcome.delta.added
    # the write got what the loader adds to a file: the date's claim, and statedIn
    predicates = {q.predicate.value.rsplit("#", 1)[-1] for q in logged[-1].added}
    assert {"claim", "claimValue", "earliestDate", "statedIn"} <= predicates


def test_export_appends_additions_that_validate_and_reload_to_the_store(writer, tmp_path):
    out = _data_copy(tmp_path)
    done = export(writer.served.directory, out)
    assert done == [("appended", out / FILE)]
    text = (out / FILE).read_text(encoding="utf-8")
    assert "# Added from the live store (change 1 by tester" in text and "agreement:exported a ekg:Agreement" in text
    added = text.split("# Added from the live store")[1]
    assert "ekg:Claim" not in added and "statedIn" not in added  # the author's triples only: loading adds the rest
    original = next(f for f in shipped_data_files() if f.name == FILE).read_text(encoding="utf-8")
    assert text.startswith(original)  # an edit: the file as it was, and the new facts after it
    report = validate([out / FILE])
    assert report.conforms, report.to_json()
    snapshot = FollowerStore(writer.served.directory)
    assert _graph(load([out / FILE], shipped=False).quads, SOURCE) == _graph(
        snapshot.quads_for_pattern(None, None, None, ox.NamedNode(SOURCE)), SOURCE)


def test_export_rewrites_a_file_with_removals(writer, tmp_path):
    _write(writer, REMOVE, "Rename the CrossU letter")
    out = _data_copy(tmp_path)
    done = subprocess.run([sys.executable, "-m", "explore_kg", "changes", "export", "--store-dir",
                           str(writer.served.directory), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"updated {out / FILE}" in done.stdout
    text = (out / FILE).read_text(encoding="utf-8")
    assert text.startswith("# Facts stated by one source document")  # the file's leading comment is kept
    assert "ESA and CrossU letter of intent" in text and "ESA–CrossU letter of intent" not in text
    assert validate([out / FILE]).conforms
    snapshot = FollowerStore(writer.served.directory)
    assert _graph(load([out / FILE], shipped=False).quads, SOURCE) == _graph(
        snapshot.quads_for_pattern(None, None, None, ox.NamedNode(SOURCE)), SOURCE)


def test_a_refused_write_leaves_the_store_dump_identical(writer):
    before = writer.store.dump(format=ox.RdfFormat.N_QUADS)
    generation = writer.served.generation
    bad = ADD.replace("agency:esa, agency:jaxa", "agency:esa").replace("exported", "refused")
    outcome = writer.write(lambda store: run_update(store, bad, base=None), who="tester")
    assert not outcome.accepted and outcome.change is None
    assert writer.store.dump(format=ox.RdfFormat.N_QUADS) == before
    assert writer.served.generation == generation


def test_readers_follow_the_log_without_a_snapshot_per_write(writer):
    from explore_kg.store.writable import GENERATIONS, generations, pointer

    directory = writer.served.directory
    reader = FollowerStore(directory)  # a query worker's copy, started now
    try:
        snapshot_before = generations(directory)
        ask = PREFIXES + "ASK { GRAPH ?g { agreement:followed a ekg:Agreement } }"
        assert not bool(reader.query(ask))
        _write(writer, ADD.replace("exported", "followed").replace("Exported", "Followed"), "Followed")
        assert generations(directory) == snapshot_before  # no checkpoint for this write
        assert reader.refresh() is True and bool(reader.query(ask))  # the log's new record, applied
        assert reader.refresh() is False  # nothing new: one stat
        late = FollowerStore(directory)  # started after the writes: the snapshot plus the log's tail
        try:
            assert late.generation == writer.seq and bool(late.query(ask))
        finally:
            late.close()
        with writer.lock:
            writer.snapshot()  # what the writer does every SNAPSHOT_EVERY writes or when writes pause
        seq, offset = pointer(directory)
        assert seq == writer.seq and offset == writer.changes.size()
        assert (directory / GENERATIONS / str(seq)).is_dir()
        fresh = FollowerStore(directory)
        try:
            assert fresh.generation == writer.seq and bool(fresh.query(ask))
        finally:
            fresh.close()
    finally:
        reader.close()
