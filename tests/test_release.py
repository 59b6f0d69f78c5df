"""``explore-kg release``: a release folder, byte-identical when made twice, served at /dumps/VERSION/."""

from __future__ import annotations

import datetime
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import RELEASE_DATE, free_port, start_server
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, VOID

import explore_kg
from explore_kg.export import FORMATS, PROFILES, Exporter
from explore_kg.release import document_names, semver_key

ROOT = Path(__file__).resolve().parent.parent
VERSION = explore_kg.__version__
DATE = "2026-11-30"
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
DQV = Namespace("http://www.w3.org/ns/dqv#")
RELEASE = URIRef(f"https://w3id.org/explore-kg/release/{VERSION}")


def cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explore_kg", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def releases(shipped_release) -> Path:
    """`explore-kg release VERSION --out OUT --date DATE`, run once for this module and test_diff (conftest)."""
    out, done = shipped_release
    assert DATE == RELEASE_DATE
    assert done.returncode == 0, done.stderr
    assert f"wrote {out / VERSION}/" in done.stderr
    return out


@pytest.fixture(scope="module")
def folder(releases: Path) -> Path:
    return releases / VERSION


@pytest.fixture(scope="module")
def void(folder: Path) -> Graph:
    return Graph().parse(folder / "void.ttl", format="turtle")


@pytest.fixture(scope="module")
def exporter(shipped_exporter) -> Exporter:
    """The exporter the command uses, in this process: one for the session (it reasons once, for all 42 documents)."""
    return shipped_exporter


def test_package_version_is_the_ontology_version(exporter: Exporter):
    assert VERSION == "0.2.0"
    assert exporter.ontology.version_info == VERSION
    assert cli("version").stdout.strip() == VERSION


def test_release_holds_every_format_and_profile(folder: Path):
    names = {p.name for p in folder.iterdir()}
    assert names == {*document_names(), "void.ttl", "iris.txt", "CHANGELOG.md", "SHA256SUMS"}
    # 6 formats x 3 profiles x (asserted, inferred), plus asserted+inferred for the 2 quad formats
    assert len(document_names()) == len(FORMATS) * len(PROFILES) * 2 + 2 * len(PROFILES)
    for profile in PROFILES:
        assert any(profile in n for n in names) or profile == "core"


def test_release_files_are_the_bytes_of_export(folder: Path, tmp_path: Path, exporter: Exporter):
    # the command line, for two of them ...
    assert cli("export", "-f", "turtle").stdout.encode() == (folder / "explore-kg.ttl").read_bytes()
    out = tmp_path / "x.nq"
    assert cli("export", "-f", "nquads", "-p", "schema", "-o", str(out)).returncode == 0
    assert out.read_bytes() == (folder / "explore-kg.schema.nq").read_bytes()
    # ... and the exporter the command uses, for all
    for name, (fmt, content, profile) in document_names().items():
        assert exporter.document(fmt, content=content, profile=profile).data == (folder / name).read_bytes(), name


def test_release_twice_is_byte_identical_with_the_date_from_source_date_epoch(folder: Path, tmp_path: Path):
    """The second run takes its date from SOURCE_DATE_EPOCH (the first from --date): the same bytes, so the
    epoch gave the same release date (one release run less than two separate tests)."""
    epoch = str(int(datetime.datetime.fromisoformat(DATE).replace(tzinfo=datetime.UTC).timestamp()))
    done = cli("release", VERSION, "--out", str(tmp_path), env={"SOURCE_DATE_EPOCH": epoch})
    assert done.returncode == 0, done.stderr
    again = tmp_path / VERSION
    assert sorted(p.name for p in again.iterdir()) == sorted(p.name for p in folder.iterdir())
    for p in folder.iterdir():
        assert (again / p.name).read_bytes() == p.read_bytes(), p.name
    g = Graph().parse(again / "void.ttl", format="turtle")
    assert str(g.value(RELEASE, DCTERMS.issued)) == DATE


def test_sha256sums_cover_every_file(folder: Path, void: Graph):
    sums = dict(reversed(line.split("  ")) for line in (folder / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {p.name for p in folder.iterdir()} - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    # void.ttl cannot hold its own hash; every other file's is in it, with its size
    for name, digest in sums.items():
        if name == "void.ttl":
            continue
        dist = URIRef(f"https://w3id.org/explore-kg/dumps/{VERSION}/{name}")
        assert (RELEASE, DCAT.distribution, dist) in void
        checksum = void.value(dist, SPDX.checksum)
        assert str(void.value(checksum, SPDX.checksumValue)) == digest
        assert int(void.value(dist, DCAT.byteSize)) == (folder / name).stat().st_size


def test_void_describes_the_release(void: Graph, exporter: Exporter):
    assert str(void.value(RELEASE, OWL.versionInfo)) == VERSION
    assert str(void.value(RELEASE, DCTERMS.issued)) == DATE
    onto = URIRef("https://w3id.org/explore-kg/ontology")
    assert str(void.value(onto, OWL.versionInfo)) == VERSION
    assert void.value(onto, OWL.versionIRI) == URIRef(f"https://w3id.org/explore-kg/ontology/{VERSION}")
    subsets = {str(void.value(s, URIRef("http://www.w3.org/ns/sparql-service-description#name"))): int(void.value(s, VOID.triples))
               for s in void.objects(RELEASE, VOID.subset)}
    assert set(subsets) == set(exporter.graphs)
    assert subsets["https://w3id.org/explore-kg/source/lupex-mission-overview"] == len(
        {q for q in exporter.quads if q.graph_name.value.endswith("/lupex-mission-overview")})
    assert int(void.value(RELEASE, VOID.triples)) == sum(subsets.values())
    measurement = void.value(RELEASE, DQV.hasQualityMeasurement)
    assert void.value(measurement, DQV.value) == Literal(True)
    assert "0 violations" in str(void.value(measurement, URIRef("http://www.w3.org/2000/01/rdf-schema#comment")))


def test_iris_txt_is_the_stable_iri_format(folder: Path):
    lines = (folder / "iris.txt").read_text(encoding="utf-8").splitlines()
    iris = [line for line in lines if not line.startswith("#")]
    assert iris == sorted(iris) and len(iris) == len(set(iris)) > 100
    assert all(i.startswith("https://w3id.org/explore-kg/id/") for i in iris)
    assert "https://w3id.org/explore-kg/id/mission/lupex" in iris
    from explore_kg.stable_iris import IRIS_FILE, read_list

    assert iris == [iri for _, iri in read_list(IRIS_FILE)]  # the release lists what the validator keeps stable


def test_first_release_changelog(folder: Path):
    text = (folder / "CHANGELOG.md").read_text()
    assert text.startswith(f"# explore-kg {VERSION} ({DATE})")
    assert "First release" in text and "lupex-mission-overview" in text


def test_next_release_changelog_compares_with_the_previous(releases: Path, tmp_path: Path):
    import shutil

    shutil.copytree(releases / VERSION, tmp_path / VERSION)
    done = cli("release", "0.2.1", "--out", str(tmp_path), "--date", DATE, "--force")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "0.2.1" / "CHANGELOG.md").read_text()
    assert "since 0.2.0" in text and "No differences." in text
    g = Graph().parse(tmp_path / "0.2.1" / "void.ttl", format="turtle")
    assert g.value(URIRef("https://w3id.org/explore-kg/release/0.2.1"), DCAT.previousVersion) == RELEASE


@pytest.mark.parametrize("args, message", [
    (["0.3.0"], "differs from the ontology's owl:versionInfo '0.2.0'"),
    (["v0.2"], "is not a semantic version"),
    ([VERSION, "--date", "yesterday"], "is not a date"),
])
def test_release_refuses_with_one_line(tmp_path: Path, args, message):
    done = cli("release", *args, "--out", str(tmp_path))
    assert done.returncode == 2, done
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not any(tmp_path.iterdir())


def test_release_refuses_to_overwrite(folder: Path, releases: Path):
    done = cli("release", VERSION, "--out", str(releases))
    assert done.returncode == 2 and "already holds a release" in done.stderr


def test_semver_order():
    assert sorted(["0.10.0", "0.2.0", "0.2.0-rc.1", "1.0.0"], key=semver_key) == ["0.2.0-rc.1", "0.2.0", "0.10.0", "1.0.0"]


# --- served -------------------------------------------------------------------------------------------


def test_serve_releases(releases: Path, folder: Path):
    with start_server("--releases", str(releases), "--workers", "1") as server, \
            httpx.Client(base_url=server.url, timeout=120) as http:
        listing = http.get("/dumps/latest/").json()
        assert listing["version"] == VERSION and listing["releases"] == [VERSION]
        assert {f["name"] for f in listing["files"]} == {p.name for p in folder.iterdir()}
        r = http.get(f"/dumps/{VERSION}/void.ttl")
        assert r.status_code == 200 and r.content == (folder / "void.ttl").read_bytes()
        assert r.headers["content-type"].startswith("text/turtle")
        assert r.headers["last-modified"] == "Mon, 30 Nov 2026 00:00:00 GMT"
        assert "immutable" in r.headers["cache-control"]
        assert http.get(f"/dumps/{VERSION}/void.ttl", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
        assert http.get(f"/dumps/{VERSION}/void.ttl",
                        headers={"If-Modified-Since": r.headers["last-modified"]}).status_code == 304
        latest = http.get("/dumps/latest/explore-kg.nq")
        assert latest.content == (folder / "explore-kg.nq").read_bytes()
        assert latest.headers["content-type"] == "application/n-quads"
        assert latest.headers["content-location"].endswith(f"/dumps/{VERSION}/explore-kg.nq")
        head = http.head(f"/dumps/{VERSION}/explore-kg.jsonld")
        assert head.status_code == 200 and int(head.headers["content-length"]) == (folder / "explore-kg.jsonld").stat().st_size
        assert http.get("/dumps/9.9.9/void.ttl").status_code == 404
        assert http.get(f"/dumps/{VERSION}/nothing.ttl").status_code == 404
        assert http.get(f"/dumps/{VERSION}/..%2F..%2Fetc%2Fpasswd").status_code == 404
        # the unversioned dumps still work
        assert http.get("/dumps/explore-kg.ttl").content == (folder / "explore-kg.ttl").read_bytes()
        assert http.get("/dumps").json()["releases"] == [VERSION]


def test_serve_without_releases_serves_the_data_as_the_ontology_version(folder: Path, live_server: str):
    """The session's server is `serve` without --releases: its in-memory release shares the dumps it built
    for other tests (a server of its own would reason over the graph once more)."""
    with httpx.Client(base_url=live_server, timeout=300) as http:
        assert http.get("/dumps/latest/").json()["version"] == VERSION
        assert http.get(f"/dumps/{VERSION}/explore-kg.ttl").content == (folder / "explore-kg.ttl").read_bytes()
        r = http.get(f"/dumps/{VERSION}/void.ttl")
        assert r.status_code == 200
        g = Graph().parse(data=r.text, format="turtle")
        assert str(g.value(RELEASE, OWL.versionInfo)) == VERSION


def test_serve_releases_must_be_a_directory(tmp_path: Path):
    done = cli("serve", "--port", str(free_port()), "--releases", str(tmp_path / "none"))
    assert "not a directory" in done.stderr
    assert done.returncode == 2, done.stderr
