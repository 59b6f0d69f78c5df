"""explore-kg: a curated, sourced and validated knowledge graph of international space exploration."""

__version__ = "0.1.0"
