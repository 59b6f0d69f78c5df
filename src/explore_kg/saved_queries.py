"""Saved queries: the ``queries/*.rq`` files, their parameters, and binding parameters as RDF terms.

Each ``.rq`` file starts with a header in comments that says what the query answers and what it
takes::

    # title: Partners of a mission
    # description: Every organisation that leads, takes part in or contributes to a mission ...
    # param mission: label ekg:Mission ekg:Programme
    #   default: MMX
    #   example: LUPEX
    #   doc: The mission or programme, by name, acronym or IRI.

A parameter's type is one of

* ``iri [class ...]``: an IRI (``<...>``, ``https://...`` or a prefixed name such as ``mission:mmx``);
* ``label [class ...]``: a name, acronym or IRI of an entity of one of the classes (any entity when no
  class is given), resolved against the graph; no match and several matches are both errors;
* a datatype (``xsd:string``, ``xsd:integer``, ``xsd:gYear``, ``ekg:japaneseFiscalYear``, ...): a
  literal whose lexical form is checked.

Oxigraph substitutes only variables the query projects, so every parameter is also a column of the
answer; an optional parameter's test must survive it being unbound (``COALESCE(?x = ..., true)``
rather than ``BOUND(?x)``, which the optimiser folds before substitution). A parameter with a
``default`` is optional, as is one marked ``optional: true`` (it is then left
unbound and the query handles that); any other is required. Values are always bound as RDF terms
(engine substitutions), never spliced into the query text. The query's name is its file name
without ``.rq``; names come from this catalogue only, never from joining user input to a path.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from .loading import QUERIES_DIR
from .namespaces import BASE, PREFIXES, compact

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class UnknownQuery(LookupError):
    """No saved query has this name."""

    def __init__(self, name: str, known: Sequence[str]):
        self.name = name
        self.message = f"no saved query named {name!r}; known: {', '.join(known)}"
        super().__init__(self.message)


class ParameterError(ValueError):
    """A parameter value that is missing, mistyped, unknown or ambiguous; names the parameter."""

    def __init__(self, parameter: str, message: str):
        self.parameter = parameter
        self.message = message
        super().__init__(message)


class QueryFileError(ValueError):
    """A ``.rq`` file whose header cannot be read."""


# --- values: IRIs, prefixed names and literal lexical forms ---------------------------------------

_CURIE = re.compile(r"^([A-Za-z][\w.-]*)?:(\S*)$")
_TZ = r"(Z|[+-]\d{2}:\d{2})?"
_LEXICAL = {
    str(XSD.integer): re.compile(r"^[+-]?\d+$"),
    str(XSD.int): re.compile(r"^[+-]?\d+$"),
    str(XSD.nonNegativeInteger): re.compile(r"^\+?\d+$"),
    str(XSD.decimal): re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$"),
    str(XSD.double): re.compile(r"^[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF|NaN)$"),
    str(XSD.boolean): re.compile(r"^(true|false|1|0)$"),
    str(XSD.date): re.compile(r"^-?\d{4,}-\d{2}-\d{2}" + _TZ + "$"),
    str(XSD.dateTime): re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?" + _TZ + "$"),
    str(XSD.gYear): re.compile(r"^-?\d{4,}" + _TZ + "$"),
    str(XSD.gYearMonth): re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])" + _TZ + "$"),
    PREFIXES["ekg"] + "japaneseFiscalYear": re.compile(r"^\d{4}$"),
}
_EXAMPLES = {
    str(XSD.integer): "2025", str(XSD.decimal): "1.5", str(XSD.boolean): "true", str(XSD.date): "2017-04-10",
    str(XSD.gYear): "2025", str(XSD.gYearMonth): "2017-05", PREFIXES["ekg"] + "japaneseFiscalYear": "2025",
}


def expand_iri(text: str) -> str | None:
    """The IRI that ``text`` writes as ``<iri>``, an absolute IRI or a known prefixed name; else None."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    elif re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$", text) or text.startswith("urn:"):
        pass
    else:
        m = _CURIE.match(text)
        if not m or (m.group(1) or "") not in PREFIXES:
            return None
        text = str(PREFIXES[m.group(1) or ""]) + m.group(2)
    try:
        return ox.NamedNode(text).value
    except ValueError:
        return None


def _check_lexical(datatype: str, text: str) -> bool:
    pattern = _LEXICAL.get(datatype)
    if pattern is not None and not pattern.match(text):
        return False
    if datatype == str(XSD.date):
        try:
            datetime.date.fromisoformat(text.lstrip("-")[:10])
        except ValueError:
            return False
    return True


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date | int | float | decimal.Decimal):
        return value.isoformat() if isinstance(value, datetime.date) else str(value)
    return str(value)


# --- parameters -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Parameter:
    """One parameter of a saved query, as its header declares it."""

    name: str
    kind: str  # "iri", "label" or "literal"
    classes: tuple[str, ...] = ()  # for iri/label: the entity must be of one of these (full IRIs)
    datatype: str | None = None  # for literal
    default: str | None = None
    example: str | None = None
    doc: str = ""
    optional: bool = False

    @property
    def required(self) -> bool:
        return self.default is None and not self.optional

    @property
    def rdf_class(self) -> str | None:
        """The first class a label/iri parameter's entity must be of (for a dropdown of choices)."""
        return self.classes[0] if self.classes else None

    @property
    def type_label(self) -> str:
        """How the type reads to a person: ``label of ekg:Mission or ekg:Programme``, ``xsd:gYear``."""
        if self.kind == "literal":
            return compact(self.datatype or str(XSD.string))
        of = " or ".join(compact(c) for c in self.classes)
        return f"{self.kind} of {of}" if of else ("label of any entity" if self.kind == "label" else "iri")

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "type": self.kind if self.kind != "literal" else "literal",
            "datatype": compact(self.datatype) if self.datatype else None,
            "classes": [compact(c) for c in self.classes],
            "type_label": self.type_label,
            "required": self.required,
            "default": self.default,
            "example": self.example,
            "description": self.doc,
        }

    def convert(self, value: object) -> Node | LabelLookup:
        """Turn one given value into an RDF term, or into a lookup the graph must answer (labels).

        Raises ParameterError naming this parameter when the value cannot be of its type.
        """
        if isinstance(value, ox.NamedNode | ox.Literal):
            from .loading import to_rdflib

            value = to_rdflib(value)
        if self.kind == "literal":
            datatype = self.datatype or str(XSD.string)
            if isinstance(value, URIRef):
                raise ParameterError(self.name, f"parameter {self.name!r} takes a {self.type_label} literal, not an IRI")
            text = str(value).strip() if not isinstance(value, Literal) else str(value)
            if not _check_lexical(datatype, text):
                hint = f" such as {_EXAMPLES[datatype]!r}" if datatype in _EXAMPLES else ""
                raise ParameterError(
                    self.name, f"parameter {self.name!r} must be a {self.type_label}{hint}; got {text!r}"
                )
            return Literal(text) if datatype == str(XSD.string) else Literal(text, datatype=URIRef(datatype))
        if isinstance(value, Literal):
            value = str(value)
        if isinstance(value, URIRef):
            iri = str(value)
        else:
            text = _as_text(value).strip()
            if not text:
                raise ParameterError(self.name, f"parameter {self.name!r} is empty; expected a {self.type_label}")
            iri = expand_iri(text)
            if iri is None:
                if self.kind == "iri":
                    raise ParameterError(
                        self.name,
                        f"parameter {self.name!r} must be an IRI (<https://...> or a prefixed name such as "
                        f"mission:mmx); got {text!r}",
                    )
                return LabelLookup(self, text, None)
        if self.kind == "iri" and not self.classes:
            return URIRef(iri)
        return LabelLookup(self, None, iri)


_LOOKUP_QUERY = """\
PREFIX ekg: <https://w3id.org/explore-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
SELECT DISTINCT ?needle ?entity ?name WHERE {
  @VALUES@
  ?entity rdfs:label|skos:prefLabel|skos:altLabel|ekg:acronym|foaf:name|dcterms:title ?name .
  FILTER(isIRI(?entity) && COALESCE(LCASE(STR(?name)) = LCASE(STR(?needle)), true))
  @TYPED@
}
ORDER BY ?entity ?name
"""
_TYPED = "?entity a ?type . ?type rdfs:subClassOf* ?class ."
_OURS = f'FILTER(STRSTARTS(STR(?entity), "{BASE}"))'


@dataclass
class LabelLookup:
    """A label (or an IRI to check) that only the graph can turn into an entity of the right class."""

    parameter: Parameter
    label: str | None
    iri: str | None

    @property
    def sparql(self) -> str:
        # The classes come from the query file's header, and are written as terms (never user input).
        classes = self.parameter.classes
        if classes:
            values = "VALUES ?class { " + " ".join(str(ox.NamedNode(c)) for c in classes) + " }"
            return _LOOKUP_QUERY.replace("@VALUES@", values).replace("@TYPED@", _TYPED)
        return _LOOKUP_QUERY.replace("@VALUES@", "").replace("@TYPED@", "" if self.iri else _OURS)

    @property
    def substitutions(self) -> dict[str, Node]:
        return {"entity": URIRef(self.iri)} if self.iri else {"needle": Literal(self.label)}

    def resolve(self, rows: Sequence[Mapping[str, Node]]) -> URIRef:
        """Pick the one entity the lookup found, or say why there is none or more than one."""
        p = self.parameter
        wanted = f"a {p.type_label.split(' of ', 1)[1]}" if p.classes else "an entity"
        names: dict[str, list[str]] = {}
        for row in rows:
            names.setdefault(str(row["entity"]), []).append(str(row["name"]))
        if self.iri is not None:
            if self.iri in names or not p.classes and rows:
                return URIRef(self.iri)
            raise ParameterError(p.name, f"parameter {p.name!r}: {compact(self.iri)} is not {wanted} of the graph")
        if not names:
            raise ParameterError(
                p.name,
                f"unknown label {self.label!r} for parameter {p.name!r}: no {wanted.split(' ', 1)[1]} has that "
                "name or acronym (try the search-entities query, or give an IRI)",
            )
        if len(names) > 1:
            found = "; ".join(f"{compact(iri)} ({', '.join(sorted(set(n)))})" for iri, n in sorted(names.items()))
            raise ParameterError(
                p.name, f"ambiguous label {self.label!r} for parameter {p.name!r}: it names {found}; give an IRI instead"
            )
        return URIRef(next(iter(names)))


# --- the saved query ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SavedQuery:
    """One ``queries/<name>.rq`` file: its metadata, parameters and SPARQL text."""

    name: str
    title: str
    description: str
    parameters: tuple[Parameter, ...]
    sparql: str
    path: Path = field(compare=False)

    @property
    def form(self) -> str:
        """SELECT, CONSTRUCT, ASK or DESCRIBE (the first query keyword of the text)."""
        from .safety import scan

        return scan(self.sparql)[0].form or "SELECT"

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "form": self.form,
            "parameters": [p.to_json() for p in self.parameters],
            "sparql": self.sparql,
        }

    def prepare(self, given: Mapping[str, object]) -> Binding:
        """Check the given values against the parameters: known names, required ones present, types.

        Values may be text (from a command line or URL), Python values, or rdflib/pyoxigraph terms.
        Parameters with a default take it when not given; optional ones without a default stay unbound.
        """
        unknown = sorted(set(given) - {p.name for p in self.parameters})
        if unknown:
            known = ", ".join(p.name for p in self.parameters) or "none"
            raise ParameterError(
                unknown[0], f"query {self.name!r} has no parameter {unknown[0]!r} (its parameters: {known})"
            )
        binding = Binding(self)
        for p in self.parameters:
            value = given.get(p.name)
            if value is None or (isinstance(value, str) and not value.strip() and not p.required):
                if p.default is not None:
                    value = p.default
                elif p.optional:
                    continue
                else:
                    example = f", for example {p.name}={p.example}" if p.example else ""
                    raise ParameterError(
                        p.name, f"missing required parameter {p.name!r} ({p.type_label}){example}"
                    )
            converted = p.convert(value)
            if isinstance(converted, LabelLookup):
                binding.lookups.append(converted)
            else:
                binding.values[p.name] = converted
        return binding

    def bind(self, given: Mapping[str, object], select: Callable[[str, Mapping[str, Node]], list]) -> dict[str, Node]:
        """Prepare and resolve every label with ``select(sparql, substitutions) -> rows`` (rows of terms)."""
        binding = self.prepare(given)
        for lookup in binding.lookups:
            binding.values[lookup.parameter.name] = lookup.resolve(select(lookup.sparql, lookup.substitutions))
        return binding.values


@dataclass
class Binding:
    """Parameter values as RDF terms, plus the labels still to resolve against the graph."""

    query: SavedQuery
    values: dict[str, Node] = field(default_factory=dict)
    lookups: list[LabelLookup] = field(default_factory=list)


# --- reading the header ---------------------------------------------------------------------------

_HEADER_KEY = re.compile(r"^#\s?([a-z_]+):\s*(.*)$")
_PARAM_LINE = re.compile(r"^#\s?param\s+([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+)$")
_PARAM_FIELD = re.compile(r"^#\s{2,}([a-z_]+):\s*(.*)$")


def _parse_type(path: Path, name: str, text: str) -> dict:
    words = text.split()

    def full(curie: str) -> str:
        iri = expand_iri(curie)
        if iri is None:
            raise QueryFileError(f"{path}: parameter {name!r}: unknown term {curie!r} in its type")
        return iri

    if words[0] in ("iri", "label"):
        return {"kind": words[0], "classes": tuple(full(w) for w in words[1:])}
    if len(words) != 1:
        raise QueryFileError(f"{path}: parameter {name!r}: a datatype type takes no classes: {text!r}")
    return {"kind": "literal", "datatype": full(words[0])}


def parse_query_file(path: Path) -> SavedQuery:
    """Read one ``.rq`` file: header fields and parameters from its leading comment lines."""
    text = path.read_text(encoding="utf-8")
    name = path.stem
    if not NAME_PATTERN.match(name):
        raise QueryFileError(f"{path}: a saved query's file name must be lowercase words joined by '-'")
    meta: dict[str, str] = {}
    params: list[dict] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = _PARAM_LINE.match(line)
        if m:
            params.append({"name": m.group(1), **_parse_type(path, m.group(1), m.group(2))})
            continue
        m = _PARAM_FIELD.match(line)
        if m and params:
            key, value = m.group(1), m.group(2).strip()
            if key not in ("default", "example", "doc", "optional"):
                raise QueryFileError(f"{path}: parameter {params[-1]['name']!r}: unknown field {key!r}")
            params[-1][key] = value.lower() in ("true", "yes") if key == "optional" else value
            continue
        m = _HEADER_KEY.match(line)
        if m:
            meta[m.group(1)] = m.group(2).strip()
    if "title" not in meta:
        raise QueryFileError(f"{path}: the header has no '# title:' line")
    return SavedQuery(
        name=name,
        title=meta["title"],
        description=meta.get("description", ""),
        parameters=tuple(Parameter(**p) for p in params),
        sparql=text,
        path=path,
    )


@lru_cache(maxsize=4)
def _catalogue(directory: Path, stamp: tuple) -> dict[str, SavedQuery]:
    return {q.name: q for q in (parse_query_file(p) for p in sorted(directory.glob("*.rq")))}


def catalogue(directory: Path | None = None) -> dict[str, SavedQuery]:
    """Every saved query of ``directory`` (default: the shipped ``queries/``), by name, in name order."""
    directory = Path(directory or QUERIES_DIR)
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(directory.glob("*.rq")))
    return _catalogue(directory, stamp)


def load_saved_queries(directory: Path | None = None) -> list[SavedQuery]:
    """Every saved query, in name order."""
    return list(catalogue(directory).values())


def get(name: str, directory: Path | None = None) -> SavedQuery:
    """The saved query called ``name``; raises UnknownQuery (never touches a path built from ``name``)."""
    queries = catalogue(directory)
    try:
        return queries[name]
    except (KeyError, TypeError):
        raise UnknownQuery(str(name), list(queries)) from None
