"""The Python API for notebooks and scripts: open the graph (or connect to a server) and ask it things.

>>> import explore_kg
>>> kg = explore_kg.open()                       # the shipped graph, in this process
>>> kg.query("partners-of-mission", mission="LUPEX").rows[:1]   # doctest: +SKIP
>>> df = kg.df("planned-launches")               # a pandas DataFrame with Python types
>>> kg.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").value()   # doctest: +SKIP

``explore_kg.connect("http://127.0.0.1:8000")`` gives the same API against a running server
(``explore-kg serve``). A name of a saved query (see ``kg.queries()``) runs that query with its
parameters bound as RDF terms; any other text is run as SPARQL. Results keep RDF terms
(:attr:`Result.rows`); :meth:`Result.to_dataframe` turns them into Python values: numbers as numbers,
day-precision dates as datetimes, years as integers, months as periods, and says the precision of
every date in ``{column}_precision`` columns and ``df.attrs["precision"]``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from . import saved_queries
from .api_values import (  # noqa: F401 - the values' public names, importable from here as before
    _FLOATS,
    _INTEGERS,
    JFY,
    _json_term,
    _parse_sparql_json,
    date_precision,
    display,
    period_start,
    python_value,
)
from .engine import DEFAULT_TIMEOUT
from .labels import NameIndex, names_query
from .namespaces import PREFIXES
from .saved_queries import NAME_PATTERN, ParameterError, SavedQuery, UnknownQuery, compact

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = [
    "KnowledgeGraph",
    "RemoteKnowledgeGraph",
    "Result",
    "open",
    "load_graph",
    "connect",
    "ParameterError",
    "UnknownQuery",
]

# Accept value that gets SPARQL JSON for SELECT/ASK and N-Triples for CONSTRUCT/DESCRIBE.
_PARSEABLE = "application/sparql-results+json, application/n-triples"



# --- results -------------------------------------------------------------------------------------

@dataclass
class Result:
    """The answer to one query, as RDF terms.

    ``kind`` is "bindings" (SELECT: ``columns`` and ``rows``), "boolean" (ASK: ``boolean``) or
    "graph" (CONSTRUCT/DESCRIBE: ``graph``, an rdflib Graph).
    """

    kind: str
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    boolean: bool | None = None
    graph: Graph | None = None
    elapsed_ms: float = 0.0
    query: str | None = None  # the saved query's name, or None for ad-hoc SPARQL
    parameters: dict[str, Node] = field(default_factory=dict)
    source: Any = field(default=None, repr=False)  # the KnowledgeGraph that answered (for labels)

    def __iter__(self) -> Iterator:
        if self.kind == "graph":
            return iter(self.graph)
        return iter(self.rows)

    def __len__(self) -> int:
        if self.kind == "graph":
            return len(self.graph)
        return len(self.rows) if self.kind == "bindings" else 1

    def __bool__(self) -> bool:
        return bool(self.boolean) if self.kind == "boolean" else len(self) > 0

    def records(self) -> list[dict[str, Node]]:
        """Rows as dicts of column -> term (unbound columns left out)."""
        return [{c: v for c, v in zip(self.columns, row, strict=True) if v is not None} for row in self.rows]

    def column(self, name: str) -> list:
        """One column's values as Python values (see :func:`python_value`)."""
        i = self.columns.index(name)
        return [python_value(row[i]) for row in self.rows]

    def value(self) -> Any:
        """The single value of a one-row, one-column answer (or the ASK answer), as a Python value."""
        if self.kind == "boolean":
            return self.boolean
        if len(self.rows) != 1 or len(self.columns) != 1:
            raise ValueError(f"value() needs one row and one column; this result has {len(self.rows)} rows "
                             f"and {len(self.columns)} columns")
        return python_value(self.rows[0][0])

    def iris(self) -> list[str]:
        """Every IRI in the rows, once each."""
        seen: dict[str, None] = {}
        for row in self.rows:
            for v in row:
                if isinstance(v, URIRef):
                    seen.setdefault(str(v))
        return list(seen)

    def labels(self) -> dict[str, str]:
        """A readable name for every IRI of the rows (its short name, see :mod:`explore_kg.labels`)."""
        if self.source is None:
            return {}
        return self.source.labels(self.iris())

    def to_dataframe(self, labels: bool = True) -> pandas.DataFrame:
        """A pandas DataFrame with Python types.

        * IRIs become their readable names when ``labels`` (the default), else stay IRI strings;
        * integers, decimals and booleans become numbers and bools;
        * a column whose dates are all days becomes ``datetime64``; all years (calendar or Japanese
          fiscal) become integers; a column of mixed precision becomes ``datetime64`` holding the first
          day each value covers (JFY 2025 -> 2025-04-01, 2024 -> 2024-01-01), read together with
          its precision column;
        * each date column that is not all days gets a ``{column}_precision`` column after it, and
          ``df.attrs["precision"]`` maps every date column to its precisions.

        >>> df = explore_kg.open().df("planned-launches")          # doctest: +SKIP
        >>> df[["mission", "plannedLaunch", "plannedLaunch_precision"]]  # doctest: +SKIP
        """
        import pandas as pd

        if self.kind == "boolean":
            return pd.DataFrame({"boolean": [self.boolean]})
        if self.kind == "graph":
            return pd.DataFrame(
                [(str(s), str(p), python_value(o)) for s, p, o in sorted(self.graph)],
                columns=["subject", "predicate", "object"],
            )
        names = self.labels() if labels else {}
        data: dict[str, Any] = {}
        precision_attr: dict[str, list[str]] = {}
        for i, col in enumerate(self.columns):
            terms = [row[i] for row in self.rows]
            precisions = [date_precision(t) for t in terms]
            present = {p for p in precisions if p}
            if present and all(p or t is None for p, t in zip(precisions, terms, strict=True)):
                precision_attr[col] = sorted(present)
                if present == {"day"}:
                    data[col] = pd.to_datetime([python_value(t) for t in terms])
                elif present <= {"year"} or present <= {"Japanese fiscal year"}:
                    data[col] = pd.array([python_value(t) for t in terms], dtype="Int64")
                else:
                    data[col] = pd.to_datetime([period_start(t) if t is not None else None for t in terms])
                if present != {"day"}:
                    data[f"{col}_precision"] = precisions
                continue
            values = [names.get(str(t), compact(str(t))) if labels and isinstance(t, URIRef) else python_value(t)
                      for t in terms]
            datatypes = {str(t.datatype) for t in terms if isinstance(t, Literal) and t.datatype is not None}
            if datatypes and datatypes <= _INTEGERS and None in values:
                data[col] = pd.array(values, dtype="Int64")
            else:
                data[col] = values
        df = pd.DataFrame(data)
        df.attrs["precision"] = precision_attr
        if self.query:
            df.attrs["query"] = self.query
            df.attrs["parameters"] = {k: str(v) for k, v in self.parameters.items()}
        return df

    def to_table(self, iris: bool = False, title: str | None = None):
        """A rich Table for a terminal: labels instead of IRIs unless ``iris``."""
        from rich.table import Table

        table = Table(title=title, show_lines=False, header_style="bold")
        if self.kind == "boolean":
            table.add_column("answer")
            table.add_row("yes" if self.boolean else "no")
            return table
        if self.kind == "graph":
            for col in ("subject", "predicate", "object"):
                table.add_column(col)
            names = {} if iris or self.source is None else self.source.labels(
                {str(t) for triple in self.graph for t in triple if isinstance(t, URIRef)})
            for triple in sorted(self.graph):
                table.add_row(*(display(t, names, iris) for t in triple))
            return table
        names = {} if iris else self.labels()
        # A saved query's parameters are columns too (Oxigraph binds only projected variables); they
        # hold the same value on every row, so the table says them once, in its caption.
        hidden = {p.name for p in saved_queries.get(self.query).parameters} if self.query else set()
        keep = [i for i, col in enumerate(self.columns) if col not in hidden]
        for i in keep:
            table.add_column(self.columns[i], overflow="fold")
        for row in self.rows:
            table.add_row(*(display(row[i], names, iris) for i in keep))
        if self.parameters:
            names = {**names, **({} if iris else self.source.labels([str(v) for v in self.parameters.values()]))}
            table.caption = ", ".join(f"{k} = {display(v, names, iris)}" for k, v in self.parameters.items())
        return table

    def _repr_html_(self) -> str:  # notebooks show results as a table with readable names
        import html

        if self.kind != "bindings":
            return f"<pre>{html.escape(repr(self.boolean if self.kind == 'boolean' else len(self.graph)))}</pre>"
        names = self.labels()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(display(v, names))}</td>" for v in row) + "</tr>"
            for row in self.rows[:200]
        )
        more = f"<p>{len(self.rows) - 200} more rows</p>" if len(self.rows) > 200 else ""
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def result_from(answer, *, query: str | None = None, parameters: Mapping[str, Node] | None = None,
                source=None) -> Result:
    """A Result from an engine answer (body, media_type, kind, elapsed_ms) in SPARQL JSON or N-Triples."""
    kind = answer.kind
    if kind == "graph":
        graph = Graph()
        for prefix, ns in PREFIXES.items():
            graph.bind(prefix, ns, override=True, replace=True)
        fmt = "nt" if "n-triples" in answer.media_type else "turtle"
        graph.parse(data=answer.body.decode("utf-8"), format=fmt)
        return Result("graph", graph=graph, elapsed_ms=answer.elapsed_ms, query=query,
                      parameters=dict(parameters or {}), source=source)
    columns, rows, boolean = _parse_sparql_json(answer.body)
    return Result("boolean" if boolean is not None else "bindings", columns=columns, rows=rows, boolean=boolean,
                  elapsed_ms=answer.elapsed_ms, query=query, parameters=dict(parameters or {}), source=source)


# --- the two ways in: in-process and remote --------------------------------------------------------

class _Base:
    """What both kinds of graph share: saved-query lookup, labels, DataFrames."""

    def __init__(self) -> None:
        self._names = NameIndex()

    # subclasses implement: run(name_or_sparql, *, media_type, **params) -> engine-like answer

    def queries(self) -> list[SavedQuery]:
        """The saved queries, in name order (each has ``name``, ``title``, ``description``, ``parameters``)."""
        return saved_queries.load_saved_queries()

    @staticmethod
    def _saved(name_or_sparql: str) -> SavedQuery | None:
        if NAME_PATTERN.match(name_or_sparql.strip()):
            return saved_queries.get(name_or_sparql.strip())
        return None

    def query(self, name_or_sparql: str, **params: Any) -> Result:
        """Run a saved query by name (parameters as keyword arguments) or a SPARQL query text.

        Parameter values may be labels ("MMX"), IRIs or prefixed names ("mission:mmx"), Python values
        (2025, datetime.date) or rdflib terms. Raises ParameterError (naming the parameter) or
        UnknownQuery.

        >>> kg.query("agreements-of-agency", agency="ESA")      # doctest: +SKIP
        """
        answer, bound = self._run(name_or_sparql, _PARSEABLE, params)
        saved = self._saved(name_or_sparql)
        return result_from(answer, query=saved.name if saved else None, parameters=bound, source=self)

    def df(self, name_or_sparql: str, *, labels: bool = True, **params: Any) -> pandas.DataFrame:
        """``query(...).to_dataframe(labels=labels)``: a pandas DataFrame with Python types.

        >>> kg.df("agency-cooperation-network")                # doctest: +SKIP
        """
        return self.query(name_or_sparql, **params).to_dataframe(labels=labels)

    def run(self, name_or_sparql: str, *, media_type: str | None = None, **params: Any):
        """The serialized answer (``.body`` bytes, ``.media_type``) in a format of your choice, e.g. text/csv."""
        return self._run(name_or_sparql, media_type, params)[0]

    def claims(self, subject: Any = None, property: Any = None, *, labels: bool = True) -> pandas.DataFrame:  # noqa: A002
        """The claims (statement nodes), one row per claim: subject, property, value, precision,
        qualifier, earliest, latest, source (see :func:`explore_kg.claims.claims_frame`).

        ``subject`` / ``property`` narrow it: an IRI, a prefixed name or a name ("LUPEX").

        >>> kg.claims("LUPEX", "ekg:plannedLaunchDate")         # doctest: +SKIP
        """
        from .claims import claims_frame, claims_query

        return claims_frame(self.query(claims_query(subject, property)), labels=labels)

    def labels(self, iris: Iterable[str]) -> dict[str, str]:
        """Readable names for IRIs (their short names, see :mod:`explore_kg.labels`); cached."""
        wanted = sorted({str(i) for i in iris} - set(self._names))
        for start in range(0, len(wanted), 200):
            sparql = names_query(wanted[start:start + 200])
            if sparql is None:
                continue
            answer, _ = self._run(sparql, _PARSEABLE, {})
            self._names.add_rows(_parse_sparql_json(answer.body)[1])
        return {str(i): self._names.short(str(i)) for i in iris if str(i) in self._names}


class KnowledgeGraph(_Base):
    """The graph loaded in this process, queried with the same engine (and checks) as the server.

    >>> kg = KnowledgeGraph.load()                              # doctest: +SKIP
    >>> kg.query("source-catalogue").to_dataframe()             # doctest: +SKIP
    """

    def __init__(self, store, loaded=None, *, inferred: bool = False, entailed: bool = False,
                 timeout: float | None = DEFAULT_TIMEOUT):
        super().__init__()
        self.store = store
        self.loaded = loaded
        self.inferred = inferred
        self.entailed = entailed
        # Seconds each query may run, as on the server (None or 0: no limit); Ctrl-C stops a query either way.
        self.timeout = timeout

    @classmethod
    def load(cls, paths: Iterable = (), *, inferred: bool = False, entailed: bool = True,
             timeout: float | None = DEFAULT_TIMEOUT) -> KnowledgeGraph:
        """Load the shipped graph (or the given files); with ``inferred`` also OWL 2 RL inferences,
        in the graph ``https://w3id.org/explore-kg/graph/inferred``; with ``entailed`` (the default)
        the sub-class/-property, inverse and equivalence entailments, in graph ``.../graph/entailed``.
        ``timeout``: see :func:`open`."""
        from .large_inputs import is_large
        from .server import ServerConfig, load_for_serving

        paths = list(paths)
        if paths and is_large(paths):  # loaded once into the on-disk store, queried there (explore_kg.large_inputs)
            from .large_inputs import input_bytes, open_disk_store
            from .loading import LoadError

            if inferred:
                raise LoadError(paths[0], f"OWL 2 RL inferences (--inferred) are not available for "
                                f"{input_bytes(paths) / 2**20:,.0f} MB of input: owlrl holds the whole graph in "
                                "memory and does not scale to it")
            served = open_disk_store(paths, entailed=entailed)
            return cls(served.store, served.loaded, inferred=False, entailed=entailed, timeout=timeout)
        loaded = load_for_serving(ServerConfig(paths=paths, inferred=inferred, entailed=entailed))
        return cls(loaded.to_store(entailed=entailed), loaded, inferred=inferred, entailed=entailed, timeout=timeout)

    def __repr__(self) -> str:
        kind = " with inferences" if self.inferred else "" if self.entailed else " (asserted only)"
        return f"<KnowledgeGraph: {len(self.store)} quads{kind}>"

    def dataset(self):
        """The data as an rdflib Dataset (default graph = union of the source graphs)."""
        return self.loaded.to_dataset()

    def _select(self, sparql: str, substitutions: Mapping[str, Node]) -> list[dict[str, Node]]:
        answer = self._query(sparql, _PARSEABLE, substitutions)
        columns, rows, _ = _parse_sparql_json(answer.body)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def _run(self, name_or_sparql: str, media_type: str | None, params: Mapping[str, Any]):
        saved = self._saved(name_or_sparql)
        if saved is not None:
            bound = saved.bind(params, self._select)
            return self._query(saved.sparql, media_type, bound), bound
        bound = {k: _term(v) for k, v in params.items()}
        return self._query(name_or_sparql, media_type, bound), bound

    def _query(self, sparql: str, media_type: str | None, substitutions: Mapping[str, Node]):
        """One query under this graph's time limit, in a child process that the deadline or Ctrl-C kills."""
        from .deadline import run_with_deadline

        return run_with_deadline(self.store, sparql, media_type=media_type, substitutions=substitutions,
                                 timeout=self.timeout)


def _term(value: Any) -> Node:
    """An rdflib term for an ad-hoc query's binding: terms pass, Python values become typed literals."""
    if isinstance(value, Node):
        return value
    return Literal(value)


@dataclass
class _Answer:
    body: bytes
    media_type: str
    kind: str
    elapsed_ms: float


class RemoteKnowledgeGraph(_Base):
    """The same API against a running explore-kg server (``explore-kg serve``), over HTTP.

    Saved queries run on the server (``GET /queries/{name}``), SPARQL goes to ``/sparql``.

    >>> kg = explore_kg.connect("http://127.0.0.1:8000")       # doctest: +SKIP
    >>> kg.df("partners-of-mission", mission="MMX")             # doctest: +SKIP
    """

    def __init__(self, url: str, *, timeout: float = 60.0, client=None):
        import httpx

        super().__init__()
        self.url = url.rstrip("/")
        self.client = client or httpx.Client(timeout=timeout)

    def __repr__(self) -> str:
        return f"<RemoteKnowledgeGraph {self.url}>"

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> RemoteKnowledgeGraph:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self, name_or_sparql: str, media_type: str | None, params: Mapping[str, Any]):
        from .engine import QueryError, QueryTimeout

        headers = {"Accept": media_type or _PARSEABLE}
        saved = self._saved(name_or_sparql)
        if saved is not None:
            query = {k: _wire(v) for k, v in params.items() if v is not None}
            response = self.client.get(f"{self.url}/queries/{saved.name}", params=query, headers=headers)
        else:
            if params:
                raise ParameterError(next(iter(params)), "parameters of an ad-hoc SPARQL query can only be bound "
                                     "in-process; use a saved query or VALUES in the query")
            response = self.client.post(f"{self.url}/sparql", data={"query": name_or_sparql}, headers=headers)
        if response.status_code == 404 and saved is not None:
            raise UnknownQuery(saved.name, [q.name for q in self.queries()])
        if response.status_code >= 400:
            message = response.text.strip()
            parameter = response.headers.get("x-parameter")
            if parameter:
                from urllib.parse import unquote

                raise ParameterError(unquote(parameter), message)  # the server percent-encodes it
            # 503 is the server's deadline (or no worker free in time): the same error as in-process
            kind = QueryTimeout if response.status_code == 503 else QueryError
            err = kind(message or f"HTTP {response.status_code}")
            err.status = response.status_code
            raise err
        content_type = response.headers.get("content-type", "")
        kind = "graph" if not content_type.startswith("application/sparql-results") else "bindings"
        timing = response.headers.get("server-timing", "")
        elapsed = float(timing.split("dur=")[1].split(";")[0]) if "dur=" in timing else 0.0
        return _Answer(response.content, content_type, kind, elapsed), {}


def _wire(value: Any) -> str:
    """How a parameter value travels in a URL: IRIs as <iri>, others as their text."""
    if isinstance(value, URIRef):
        return f"<{value}>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


# --- entry points ------------------------------------------------------------------------------------

def open(paths: Sequence = (), *, inferred: bool = False, entailed: bool = True,  # noqa: A001 - explore_kg.open()
         timeout: float | None = DEFAULT_TIMEOUT) -> KnowledgeGraph:
    """Load the shipped graph (plus any extra files) in one call, ready to query.

    Sub-class, sub-property, inverse and equivalence entailments are served by default (graph
    ``https://w3id.org/explore-kg/graph/entailed``); ``entailed=False`` gives the asserted triples only.
    Every query gets the server's time limit, ``timeout`` seconds (default 5; None or 0: no limit;
    ``kg.timeout`` changes it later): past it, :class:`explore_kg.engine.QueryTimeout` is raised and
    nothing is left running. Ctrl-C (KeyboardInterrupt, or a notebook's interrupt) stops a query at once.

    >>> import explore_kg
    >>> kg = explore_kg.open()                                   # doctest: +SKIP
    >>> kg.df("missions-by-target", body="Moon")                # doctest: +SKIP
    >>> explore_kg.open(inferred=True)  # with OWL 2 RL inferences  # doctest: +SKIP
    >>> explore_kg.open(entailed=False)  # asserted triples only    # doctest: +SKIP
    """
    return KnowledgeGraph.load(paths, inferred=inferred, entailed=entailed, timeout=timeout)


def load_graph(paths: Sequence = (), *, inferred: bool = False, entailed: bool = True,
               timeout: float | None = DEFAULT_TIMEOUT) -> KnowledgeGraph:
    """Same as :func:`open`."""
    return KnowledgeGraph.load(paths, inferred=inferred, entailed=entailed, timeout=timeout)


def connect(url: str = "http://127.0.0.1:8000", *, timeout: float = 60.0) -> RemoteKnowledgeGraph:
    """The same API against a running server.

    >>> kg = explore_kg.connect("http://127.0.0.1:8000")       # doctest: +SKIP
    >>> kg.query("source-catalogue").rows                       # doctest: +SKIP
    """
    return RemoteKnowledgeGraph(url, timeout=timeout)


# --- the command line's query, queries and sparql commands: explore_kg.api_cli ------------------------

def run_cli(*args, **kwargs) -> int:
    """``explore-kg query`` / ``sparql`` (:func:`explore_kg.api_cli.run_cli`)."""
    from .api_cli import run_cli as run

    return run(*args, **kwargs)


def list_cli(fmt: str = "table") -> int:
    """``explore-kg queries`` (:func:`explore_kg.api_cli.list_cli`)."""
    from .api_cli import list_cli as run

    return run(fmt)
