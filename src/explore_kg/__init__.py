"""explore-kg: a curated, sourced and validated knowledge graph of international space exploration."""

__version__ = "0.2.0"

# The Python API (explore_kg.open(), connect(), ...) lives in api.py and is imported on first use, so
# that `import explore_kg` (and the command line) stays quick.
_API = ("open", "load_graph", "connect", "KnowledgeGraph", "RemoteKnowledgeGraph", "Result",
        "ParameterError", "UnknownQuery")


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'explore_kg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
