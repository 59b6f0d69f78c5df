"""The /dumps endpoint of a real server: the same bytes as ``explore-kg export``, with the right headers."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from explore_kg.export import FORMATS, Exporter
from explore_kg.namespaces import INFERRED_GRAPH


@pytest.fixture(scope="module")
def exporter(shipped_exporter):
    return shipped_exporter  # (conftest: one per session, it reasons once)


def test_dumps_lists_every_format(http):
    r = http.get("/dumps")
    assert r.status_code == 200
    listing = r.json()
    names = {d["name"] for d in listing["dumps"]}
    assert names == {f"explore-kg.{f.extension}" for f in FORMATS.values()}
    assert "lupex-mission-overview" in listing["graphs"]
    assert set(listing["profiles"]) == {"core", "schema", "wikidata"}
    trig = next(d for d in listing["dumps"] if d["format"] == "trig")
    assert trig["with_inferred_url"].endswith("/dumps/explore-kg.trig?inferred=true")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_dump_is_the_cli_export(http, exporter, fmt):
    f = FORMATS[fmt]
    r = http.get(f"/dumps/explore-kg.{f.extension}")
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == f.media_type
    assert r.headers["content-disposition"] == f'attachment; filename="explore-kg.{f.extension}"'
    assert r.content == exporter.document(fmt).data
    again = http.get(f"/dumps/explore-kg.{f.extension}", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_inferred_dump_keeps_inferred_in_its_graph(http, exporter):
    r = http.get("/dumps/explore-kg.trig", params={"inferred": "true"})
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="explore-kg.with-inferred.trig"'
    graphs = {q.graph_name.value for q in ox.parse(r.content, format=ox.RdfFormat.TRIG)}
    assert str(INFERRED_GRAPH) in graphs
    assert r.content == exporter.document("trig", content="all").data


def test_triple_format_points_to_the_inferred_file(http, exporter):
    refused = http.get("/dumps/explore-kg.ttl", params={"inferred": "true"})
    assert refused.status_code == 400
    assert "explore-kg.inferred.ttl" in refused.json()["error"]
    r = http.get("/dumps/explore-kg.inferred.ttl")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="explore-kg.inferred.ttl"'
    assert r.content == exporter.document("turtle", content="inferred").data


def test_profile_and_graph_parameters(http, exporter):
    r = http.get("/dumps/explore-kg.jsonld", params={"profile": "schema"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/ld+json")
    assert r.headers["content-disposition"] == 'attachment; filename="explore-kg.schema.jsonld"'
    assert r.json()["@context"]["@vocab"] == "https://schema.org/"
    one = http.get("/dumps/explore-kg.nq", params={"graph": "lupex-mission-overview"})
    assert one.status_code == 200
    assert one.content == exporter.document("nquads", graph="lupex-mission-overview").data


def test_bad_requests_are_clear(http):
    assert http.get("/dumps/explore-kg.csv").status_code == 404
    assert http.get("/dumps/other.ttl").status_code == 404
    bad_graph = http.get("/dumps/explore-kg.ttl", params={"graph": "nowhere"})
    assert bad_graph.status_code == 400 and "known graphs" in bad_graph.json()["error"]
    bad_profile = http.get("/dumps/explore-kg.ttl", params={"profile": "nope"})
    assert bad_profile.status_code == 400 and "known profiles" in bad_profile.json()["error"]


def test_head_gives_length_without_body(http, exporter):
    r = http.head("/dumps/explore-kg.nt")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) == len(exporter.document("ntriples").data)


def test_the_listing_never_echoes_a_foreign_host(http):
    """Issue 15: a foreign Host was echoed into dump URLs; without a configured public URL they are
    relative to the server's root."""
    listing = http.get("/dumps", headers={"Host": "evil.example"}).json()
    for entry in listing["dumps"]:
        for key in ("url", "inferred_url", "with_inferred_url"):
            if key in entry:
                assert entry[key].startswith("/dumps/explore-kg."), entry[key]
                assert "evil" not in entry[key]


def test_dump_status_codes_are_documented(http):
    """Every status /dumps/{filename} answers is in the OpenAPI document (schemathesis checks this)."""
    operation = http.get("/openapi.json").json()["paths"]["/dumps/{filename}"]["get"]
    assert {"200", "304", "400", "404"} <= set(operation["responses"])
    assert http.get("/dumps/nope.txt").status_code == 404
    assert http.get("/dumps/explore-kg.ttl", params={"profile": "nope"}).status_code == 400


@pytest.fixture(scope="module")
def disk_server(tmp_path_factory):
    """The shipped graph served from the on-disk store: /dumps streams from it instead of materialising it.
    Yields the server and the in-memory Exporter over the same store's quads (what /dumps sent before; the
    store writes some literals in canonical form, e.g. "350.0"^^xsd:decimal as "350")."""
    from conftest import start_server

    from explore_kg.server import ServerConfig
    from explore_kg.store.disk import DiskStore

    directory = tmp_path_factory.mktemp("dumps-store")
    with start_server("--store-dir", str(directory), "--workers", "1") as server:
        stored = DiskStore.open_or_build(ServerConfig(paths=[], store_dir=str(directory)))
        yield server, Exporter(stored.loaded)


@pytest.mark.parametrize("fmt", ["turtle", "nquads", "jsonld"])
def test_dumps_of_the_on_disk_store_are_the_same_bytes(disk_server, fmt):
    import httpx

    server, exporter = disk_server
    f = FORMATS[fmt]
    with httpx.Client(base_url=server.url, timeout=60) as client:
        r = client.get(f"/dumps/explore-kg.{f.extension}")
        assert r.status_code == 200, r.text
        assert r.content == exporter.document(fmt).data
        assert r.headers["x-triples"] == str(exporter.document(fmt).triples)
        assert client.get(f"/dumps/explore-kg.{f.extension}", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
        one = client.get(f"/dumps/explore-kg.{f.extension}", params={"graph": "lupex-mission-overview", "profile": "schema"})
        assert one.content == exporter.document(fmt, graph="lupex-mission-overview", profile="schema").data
        assert client.get(f"/dumps/explore-kg.{f.extension}", params={"graph": "nope"}).status_code == 400
        assert "lupex-mission-overview" in client.get("/dumps").json()["graphs"]
