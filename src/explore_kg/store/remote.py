"""An external SPARQL store (``--store http(s)://...``): explore-kg's checks, deadlines, negotiation,
saved queries, pages and exports in front of a store it does not run itself.

* :class:`Connection`: the store's endpoints (from :mod:`explore_kg.store.dialects`) and credentials
  (``--auth user:pass`` / ``--auth-type basic|digest|bearer`` or EXPLORE_KG_STORE_USER,
  EXPLORE_KG_STORE_PASSWORD, EXPLORE_KG_STORE_TOKEN). Its ``repr`` and every error it raises name the
  store as "the SPARQL store" only: neither its address nor the credentials reach a log or a client.
* :func:`evaluate` / :func:`aevaluate`: one query checked by :func:`explore_kg.safety.check_query`,
  forwarded over explore-kg's dataset (the dialect's dataset parameters), its answer parsed, the
  dialect's deviations undone, and serialized again by pyoxigraph in the negotiated format: the same
  bytes an embedded store gives for the same solutions.
* :class:`~explore_kg.store.remote_engine.RemoteEngine` (its own module): the server's engine over it.
* :class:`RemoteStore`: the :class:`~explore_kg.store.ServedStore` for ``serve --store URL``.

Errors: the store down or refusing: :class:`StoreUnavailable` (502 to a client, exit status 3);
past our deadline: 504.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from ..engine import QueryFailed, QueryResult, QueryTimeout, _prepare, _Request, negotiate
from ..safety import QuerySyntaxError, check_query, scan, token_pattern, where_group_start
from .dialects import detect

log = logging.getLogger("explore_kg.store")
logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines name every URL requested

AUTH_TYPES = ("basic", "digest", "bearer")
_SPARQL_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"
ENTAILED = "https://w3id.org/explore-kg/graph/entailed"


def is_url(value: str | None) -> bool:
    return bool(value) and value.startswith(("http://", "https://"))


class StoreUnavailable(QueryFailed):
    """The store cannot be reached, or answered with a server error (502; exit status 3)."""

    status = 502


class StoreRefused(QueryFailed):
    """The store refused a request of ours (credentials, permissions, a malformed request)."""

    status = 502


def _auth(auth: str | None, auth_type: str | None):
    """The httpx auth for ``--auth`` / ``--auth-type`` or the environment (None: anonymous)."""
    kind = (auth_type or "").lower() or None
    if kind is not None and kind not in AUTH_TYPES:
        raise ValueError(f"--auth-type {auth_type!r} is not one of {', '.join(AUTH_TYPES)}")
    token = os.environ.get("EXPLORE_KG_STORE_TOKEN")
    if kind == "bearer" or (kind is None and token and not auth):
        if auth and kind == "bearer":
            token = auth
        if not token:
            raise ValueError("--auth-type bearer needs a token: --auth TOKEN or EXPLORE_KG_STORE_TOKEN")
        return _Bearer(token)
    user = password = None
    if auth:
        user, sep, password = auth.partition(":")
        if not sep:
            raise ValueError("--auth takes USER:PASSWORD (or a token with --auth-type bearer)")
    else:
        user, password = os.environ.get("EXPLORE_KG_STORE_USER"), os.environ.get("EXPLORE_KG_STORE_PASSWORD")
    if not user:
        return None
    return httpx.DigestAuth(user, password or "") if kind == "digest" else httpx.BasicAuth(user, password or "")


class _Bearer(httpx.Auth):
    def __init__(self, token: str):
        self._header = f"Bearer {token}"

    def auth_flow(self, request):
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "<bearer token>"


class Connection:
    """Where the store is and how to talk to it (sync for the CLI and push, async for the server)."""

    def __init__(self, url: str, *, update_url: str | None = None, gsp_url: str | None = None,
                 auth: str | None = None, auth_type: str | None = None, dialect: str | None = None,
                 probe: bool = True, timeout: float = 60.0):
        if not is_url(url):
            raise ValueError("--store takes auto, memory, disk or the store's URL (http(s)://...)")
        self.auth = _auth(auth, auth_type)
        self.timeout = timeout
        self.client = httpx.Client(auth=self.auth, timeout=httpx.Timeout(timeout, connect=5.0),
                                   follow_redirects=False)
        from .dialects import DIALECTS

        if dialect:
            cls = DIALECTS[dialect]
        else:
            cls = detect(url, self._probe if probe else None)
        kwargs = {"authenticated": self.auth is not None} if cls.name == "virtuoso" else {}
        self.dialect = cls(url, update_url=update_url, gsp_url=gsp_url, **kwargs)
        self._graphs: frozenset[str] | None = None
        self.counts: dict[str, int] = {}  # triples per graph of ours, as last read by graphs()
        self.generation = 0  # how many times graphs() has seen the store's graphs change

    def __repr__(self) -> str:  # never the URL nor the credentials
        return f"<Connection to a {self.dialect.title}>"

    def close(self) -> None:
        self.client.close()

    def _probe(self, url: str):
        try:
            return self.client.get(url, timeout=5.0)
        except httpx.HTTPError:
            return None

    # -- sync requests --

    def request(self, method: str, url: str, *, what: str, **kwargs) -> httpx.Response:
        """One request; a store that is down or fails raises StoreUnavailable, a refusal StoreRefused."""
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise StoreUnavailable(f"the SPARQL store did not answer {what} within {self.timeout:g} s") from None
        except httpx.HTTPError as e:
            raise StoreUnavailable(f"the SPARQL store cannot be reached ({what}): {type(e).__name__}") from None
        check_status(response, what)
        return response

    def query_request(self, sparql: str, accept: str, params: list[tuple[str, str]]) -> dict:
        """The keyword arguments of an httpx request sending ``sparql`` to the query endpoint."""
        headers = {"Accept": accept}
        if self.dialect.form_post:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return {"content": urlencode([("query", sparql), *params]).encode(), "headers": headers}
        headers["Content-Type"] = "application/sparql-query; charset=utf-8"
        return {"params": params, "content": sparql.encode("utf-8"), "headers": headers}

    def raw_query(self, sparql: str, accept: str, params=(), *, what="a query") -> httpx.Response:
        return self.request("POST", self.dialect.query_url, what=what,
                            **self.query_request(sparql, accept, list(params)))

    def select(self, sparql: str, *, dataset: bool = True, params=None) -> list[dict[str, ox.Term]]:
        """The rows of a SELECT over explore-kg's dataset (or the store's own with ``dataset=False``, or
        the dataset that ``params`` name)."""
        if params is None:
            params = self.dialect.dataset_parameters(self.graphs()) if dataset else []
        body = self.raw_query(sparql, _SPARQL_JSON, params).content
        solutions = ox.parse_query_results(fix_json(body, self.dialect), format=ox.QueryResultsFormat.JSON)
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in solutions]

    def update(self, text: str, *, what: str = "an update") -> None:
        self.request("POST", self.dialect.update_url, what=what, data={"update": text})

    def graphs(self, *, refresh: bool = False) -> frozenset[str]:
        """explore-kg's named graphs in the store (the dialect's system graphs and the merge left out),
        read once, and again with ``refresh`` (serve's probe does, see remote_engine)."""
        if refresh or self._graphs is None:
            # (GROUP BY, not DISTINCT: Virtuoso 7 answers DISTINCT ?g in 20 s, this in 50 ms)
            rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", dataset=False)
            counts = {r["g"].value: int(r["n"].value) for r in rows if isinstance(r.get("g"), ox.NamedNode)
                      and not self.dialect.is_system_graph(r["g"].value)}
            if counts != self.counts or self._graphs is None:
                self.counts = counts
                self._graphs = frozenset(counts)
                self.generation += 1  # (the engine notices a change by this number)
        return self._graphs

    def sizes(self) -> dict[str, int]:
        """Triples per named graph of ours, and under "" the default graph (the merge)."""
        rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        sizes = {r["g"].value: int(r["n"].value) for r in rows}
        sizes[""] = int(self.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"].value)
        return sizes

    def quads(self, graphs: Iterable[str], predicates: Sequence[str] = ()) -> Iterator[ox.Quad]:
        """The quads of ``graphs``: one request per graph; with ``predicates`` (the pages' names and
        owl:inverseOf declarations) one request for all graphs, which the store answers by predicate."""
        graphs = sorted(graphs)
        if predicates:
            values = " ".join(f"<{p}>" for p in predicates)
            for at in range(0, len(graphs), 500):
                named = " ".join(f"<{g}>" for g in graphs[at:at + 500])
                for row in self.select(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?p {{ {values} }} VALUES ?g {{ {named} }} "
                                       "GRAPH ?g { ?s ?p ?o } }", dataset=False):
                    yield ox.Quad(row["s"], row["p"], row["o"], row["g"])
            return
        for graph in graphs:
            g = ox.NamedNode(graph)
            for row in self.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"):
                yield ox.Quad(row["s"], row["p"], row["o"], g)


def check_status(response: httpx.Response, what: str) -> None:
    """Raise for an answer that is not a success, with the store's own words but never its address."""
    if response.status_code < 300:
        return
    text = " ".join(response.text[:300].split())
    for secret in (str(response.request.url), response.request.url.host or ""):
        if secret:
            text = text.replace(secret, "(the store)")
    if response.status_code in (401, 403):
        raise StoreRefused(f"the SPARQL store refused {what}: HTTP {response.status_code} (check --auth / "
                           "--auth-type or EXPLORE_KG_STORE_USER / _PASSWORD / _TOKEN)")
    if response.status_code >= 500:
        raise StoreUnavailable(f"the SPARQL store failed {what}: HTTP {response.status_code} {text}".rstrip())
    err = StoreRefused(f"the SPARQL store refused {what}: HTTP {response.status_code} {text}".rstrip())
    err.status = 400 if what == "the query" else 502
    raise err


def fix_json(body: bytes, dialect, original: str | None = None) -> bytes:
    """A SPARQL JSON answer with the dialect's deviations undone (see each dialect's docstring), and
    what its rewrite of the ``original`` query added taken out again."""
    try:
        data = json.loads(body)
    except ValueError:
        raise StoreUnavailable("the SPARQL store's answer is not SPARQL JSON") from None
    head = data.setdefault("head", {})
    if "boolean" in data:
        head.pop("link", None)
        return json.dumps(data).encode()
    head.setdefault("vars", [])
    for row in data.get("results", {}).get("bindings", []):
        for name, term in row.items():
            row[name] = dialect.fix_json_term(term)
    if original is not None:
        dialect.fix_answer(data, original)
    return json.dumps(data).encode()


# --- one query ---------------------------------------------------------------------------------

def prepare(conn: Connection, req: _Request, timeout: float | None) -> tuple[str, str, dict]:
    """Check ``req`` as the embedded engine does, then (kind, Accept sent, httpx request arguments)."""
    graphs = conn.graphs()
    check_query(req.sparql, known_graphs=graphs, allow_remote=req.allow_remote, max_bytes=None,
                dataset_uris=[*req.default_graph_uris, *req.named_graph_uris])
    sparql = req.sparql
    if req.substitutions:
        from ..engine import _oxigraph_term

        try:
            sparql = substitute(sparql, {n: _oxigraph_term(t) for n, t in req.substitutions})
        except RuntimeError as e:
            raise QuerySyntaxError(str(e)) from None
    if req.base_iri and "BASE" not in sparql[:200].upper():
        sparql = f"BASE <{req.base_iri}>\n{sparql}"
    info = scan(req.sparql)[0]
    kind = info.kind or "bindings"
    accept = _NTRIPLES if kind == "graph" else _SPARQL_JSON
    params = conn.dialect.dataset_parameters(graphs, req.default_graph_uris, req.named_graph_uris,
                                             info.has_dataset_clause)
    sparql = conn.dialect.rewrite(sparql, lambda text: conn.select(text, params=params))  # (same dataset)
    params += conn.dialect.timeout_parameters(timeout)
    return kind, accept, conn.query_request(sparql, accept, params)


def substitute(sparql: str, terms: dict[str, ox.Term]) -> str:
    """The query with ``terms`` bound as pyoxigraph's substitutions bind them: each variable of the WHERE
    pattern replaced by its term (written by pyoxigraph, never user text), and a VALUES block at the
    pattern's start so that the projection still has it. (VALUES alone differs: a FILTER inside a
    UNION branch would see the variable unbound.) Not replaced: ``AS ?v`` and a sub-select's projection."""
    at = where_group_start(sparql)
    if at is None or any(isinstance(t, ox.BlankNode) for t in terms.values()):
        raise RuntimeError("cannot bind a variable of this query")
    body, pieces, last = sparql[at:], [], 0
    previous, in_projection = None, False
    for m in token_pattern().finditer(body):
        kind, value = m.lastgroup, m.group()
        if kind in ("ws", "comment"):
            continue
        if kind == "word" and value.upper() == "SELECT":
            in_projection = True
        elif in_projection and (kind == "open" and value == "{" or kind == "word" and value.upper() == "WHERE"):
            in_projection = False
        elif kind == "var" and value[1:] in terms and not in_projection and previous != "AS":
            pieces += [body[last:m.start()], str(terms[value[1:]])]
            last = m.end()
        previous = value.upper() if kind == "word" else None
    pieces.append(body[last:])
    return _values_block(sparql[:at], terms, "".join(pieces))


def _values_block(head: str, terms: dict[str, ox.Term], body: str) -> str:
    names = " ".join(f"?{n}" for n in terms)
    values = " ".join(str(t) for t in terms.values())
    return f"{head} VALUES ({names}) {{ ({values}) }} {body}"


def finish(conn: Connection, req: _Request, kind: str, response: httpx.Response, started: float) -> QueryResult:
    """The store's answer serialized in the format the client negotiated."""
    check_status(response, "the query")
    if conn.dialect.partial_answer(response):
        err = QueryTimeout("the SPARQL store stopped the query at the time limit (its answer would be partial)")
        err.status = 504
        raise err
    body = response.content
    fmt, content_type = negotiate(req.accept, kind)
    try:
        if kind == "graph":
            triples = list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
            out = ox.serialize(triples, format=fmt) or b""
        else:
            solutions = ox.parse_query_results(fix_json(body, conn.dialect, req.sparql),
                                               format=ox.QueryResultsFormat.JSON)
            out = solutions.serialize(format=fmt) or b""
    except SyntaxError as e:
        raise StoreUnavailable(f"the SPARQL store's answer could not be read: {e}") from None
    if req.max_result_bytes is not None and len(out) > req.max_result_bytes:
        from ..engine import _result_too_large

        raise _result_too_large(req.max_result_bytes)
    return QueryResult(out, content_type, kind, (time.perf_counter() - started) * 1000)


def evaluate(conn: Connection, req: _Request, timeout: float | None = None) -> QueryResult:
    """Run one query on the store, synchronously (the CLI's ``query`` / ``sparql --store``)."""
    started = time.perf_counter()
    kind, _, kwargs = prepare(conn, req, timeout)
    try:
        response = conn.client.post(conn.dialect.query_url, timeout=timeout or conn.timeout, **kwargs)
    except httpx.TimeoutException:
        raise QueryTimeout(f"the query did not finish within the time limit of {timeout or conn.timeout:g} s; "
                           "it was stopped") from None
    except httpx.HTTPError as e:
        raise StoreUnavailable(f"the SPARQL store cannot be reached: {type(e).__name__}") from None
    return finish(conn, req, kind, response, started)


# --- the served store --------------------------------------------------------------------------

class RemoteQuads:
    """The source quads in the store (every named graph of ours but graph/entailed), read on demand."""

    def __init__(self, conn: Connection, graphs: Iterable[str], count: int):
        self._conn, self._graphs, self._count = conn, sorted(graphs), count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[ox.Quad]:
        return self._conn.quads(self._graphs)

    def with_predicates(self, predicates: Iterable[str]) -> Iterator[ox.Quad]:
        return self._conn.quads(self._graphs, sorted(predicates))

    def graph_names(self) -> set[str]:
        """The IRIs of the named graphs these quads are in (the store listed them; no quad is read)."""
        return set(self._graphs)


class RemoteData:
    """What ``app.state.loaded`` is for an external store (as :class:`~explore_kg.store.disk.StoredData`)."""

    def __init__(self, conn: Connection, sizes: dict[str, int]):
        self._conn = conn
        self.graph_files: dict[str, str] = {}
        self.files: list = []
        self.update(sizes)

    def update(self, sizes: dict[str, int]) -> None:
        source = [g for g in sizes if g and g != ENTAILED]
        self.quads = RemoteQuads(self._conn, source, sum(sizes[g] for g in source))
        self.entailed = sizes.get(ENTAILED)

    def materialised(self):
        """The same data as a :class:`~explore_kg.loading.LoadedData` (read once from the store)."""
        from ..loading import LoadedData

        return LoadedData(list(self.quads), self.graph_files, [], self.entailed)

    def to_dataset(self):
        return self.materialised().to_dataset()


def connect(config) -> Connection:
    """The Connection a config (ServerConfig or the CLI's options) names."""
    return Connection(config.store, update_url=getattr(config, "update_url", None),
                      gsp_url=getattr(config, "gsp_url", None), auth=getattr(config, "auth", None),
                      auth_type=getattr(config, "auth_type", None))


class RemoteStore:
    """A :class:`~explore_kg.store.ServedStore` in an external SPARQL store."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.sizes = conn.sizes()
        if not conn.graphs():
            log.warning("the SPARQL store holds no explore-kg graph yet: load it with `explore-kg push --store URL`")
        self.store = ox.Store()  # nothing is held here: queries go to the store
        self.loaded = RemoteData(conn, self.sizes)
        self.triples = len(self.loaded.quads)
        self.entailed = self.loaded.entailed
        self.files: list = []
        from .remote_engine import data_version

        self.data_version = data_version(self.sizes)

    def refreshed(self) -> str:
        """Read the sizes again after the store's graphs changed (a push while serving): the same dicts
        and objects the app holds are updated in place. Returns the new data version."""
        from .remote_engine import data_version

        sizes = self.conn.sizes()
        self.sizes.clear()
        self.sizes.update(sizes)
        self.loaded.update(sizes)
        self.triples = len(self.loaded.quads)
        self.entailed = self.loaded.entailed
        self.data_version = data_version(sizes)
        return self.data_version

    def engine(self, config):
        from .remote_engine import RemoteEngine

        return RemoteEngine(self.conn, timeout=config.timeout, max_query_bytes=config.max_query_bytes,
                            max_result_bytes=config.max_result_bytes, allow_remote=config.allow_remote,
                            cache_bytes=config.cache_bytes, data_version=self.data_version,
                            concurrency=config.workers or 8, on_change=self.refreshed)

    @classmethod
    def open(cls, config) -> RemoteStore:
        return cls(connect(config))


def stored_data(options: dict):
    """The source quads in an external store as LoadedData (``export --store URL``)."""
    conn = Connection(options["store"], auth=options.get("auth"), auth_type=options.get("auth_type"))
    try:
        return RemoteData(conn, conn.sizes()).materialised()
    finally:
        conn.close()


def context_for(conn: Connection, new) -> object:
    """What the store holds that new facts (a LoadedData) are checked against (``validate --store``):
    the ontology graph; every quad about an IRI the new facts use and about the IRIs those quads point
    to (two hops: the shapes check a referenced entity's own references); and the types and labels of
    the IRIs one hop further. Asked for by SPARQL in batches of 200 IRIs; never the whole store."""
    from ..loading import LoadedData
    from ..namespaces import ONTOLOGY_GRAPH

    graphs = sorted(g for g in conn.graphs() if g != ENTAILED)
    quads = list(conn.quads([str(ONTOLOGY_GRAPH)])) if str(ONTOLOGY_GRAPH) in graphs else []
    named = " ".join(f"<{g}>" for g in graphs if g != str(ONTOLOGY_GRAPH))
    seen: set[str] = set()

    def about(iris: set[str], predicates: str = "") -> list[ox.Quad]:
        todo = sorted(iris - seen)
        seen.update(todo)
        found = []
        for at in range(0, len(todo), 200):
            values = " ".join(f"<{i}>" for i in todo[at:at + 200])
            for row in conn.select(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} VALUES ?g {{ {named} }} "
                                   f"{predicates}GRAPH ?g {{ ?s ?p ?o }} }}", dataset=False):
                found.append(ox.Quad(row["s"], row["p"], row["o"], row["g"]))
        return found

    def objects(qs) -> set[str]:
        return {t.value for q in qs for t in (q.subject, q.predicate, q.object) if isinstance(t, ox.NamedNode)}

    hop = about(objects(new.quads))
    quads += hop
    hop = about(objects(hop))
    quads += hop
    quads += about(objects(hop), "VALUES ?p { <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                                 "<http://www.w3.org/2000/01/rdf-schema#label> } ")
    return LoadedData(quads, {}, [])


def context_loader(options: dict):
    """``base_data`` for :func:`explore_kg.validation.validate` from ``--store URL`` options."""
    conn = Connection(options["store"], auth=options.get("auth"), auth_type=options.get("auth_type"))
    return lambda new: context_for(conn, new)


def store_graph(options: dict, *, timeout: float | None = None):
    """A :class:`~explore_kg.api.KnowledgeGraph` whose queries run on an external store (the CLI's
    ``query`` / ``sparql --store URL``); ``options``: store, update_url, gsp_url, auth, auth_type."""
    from ..api import KnowledgeGraph

    conn = Connection(options["store"], update_url=options.get("update_url"), gsp_url=options.get("gsp_url"),
                      auth=options.get("auth"), auth_type=options.get("auth_type"))

    class StoreGraph(KnowledgeGraph):
        def __repr__(self) -> str:
            return f"<KnowledgeGraph in a {conn.dialect.title}>"

        def _query(self, sparql, media_type, substitutions):
            req = _prepare(sparql, accept=media_type, substitutions=substitutions, default_graph_uris=(),
                           named_graph_uris=(), allow_remote=False, max_query_bytes=None, max_result_bytes=None)
            return evaluate(conn, req, self.timeout or None)

    return StoreGraph(None, None, timeout=timeout)
