"""Benchmark query templates (bench/queries/*.rq) and the concrete queries made from them.

A template is a SPARQL query with ``{{name}}`` placeholders; ``name`` (less any trailing digits) names
a pool in the data's ``.params.json`` sidecar (agency, mission, year, ...). Filling them here, in the
query text, is deliberate: the benchmark wants each request to be a different query text, so that no
result cache can answer it ("varying"), or the very same text every time ("repeated").
"""

from __future__ import annotations

import itertools
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
PLACEHOLDER = re.compile(r"\{\{(\w+?)\d*\}\}")


@dataclass(frozen=True)
class Template:
    name: str
    text: str

    @property
    def description(self) -> str:
        """The first comment line: what the query does."""
        first = next((line for line in self.text.splitlines() if line.startswith("#")), "# ")
        return first.lstrip("# ").strip()

    @property
    def placeholders(self) -> list[str]:
        return list(dict.fromkeys(m.group(0)[2:-2] for m in PLACEHOLDER.finditer(self.text)))

    def fill(self, values: dict[str, str]) -> str:
        return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], self.text)

    def combinations(self, params: dict[str, list[str]]) -> int:
        n = 1
        for ph in self.placeholders:
            n *= len(pool(params, ph))
        return n

    def variants(self, params: dict[str, list[str]], n: int, seed: int) -> list[str]:
        """n query texts, all different while the pools allow it (then they repeat, in a new order)."""
        rng = random.Random(f"{self.name}:{seed}")
        names = self.placeholders
        pools = [pool(params, ph) for ph in names]
        total = self.combinations(params)
        if total <= 4 * n:  # small space: shuffle it whole
            combos = list(itertools.product(*pools))
            out: list[str] = []
            while len(out) < n:
                rng.shuffle(combos)
                out += [self.fill(dict(zip(names, c, strict=True))) for c in combos[: n - len(out)]]
            return out
        seen: set[tuple] = set()
        out = []
        while len(out) < n:
            combo = tuple(rng.choice(p) for p in pools)
            if combo not in seen:
                seen.add(combo)
                out.append(self.fill(dict(zip(names, combo, strict=True))))
        return out

    def repeated(self, params: dict[str, list[str]], n: int, seed: int) -> list[str]:
        """The same query text n times (what a result cache can answer)."""
        return self.variants(params, 1, seed) * n


def pool(params: dict[str, list[str]], placeholder: str) -> list[str]:
    """The SPARQL term texts a placeholder can take: IRIs as <...>, other values as they are."""
    key = re.sub(r"\d+$", "", placeholder)
    if key not in params:
        raise KeyError(f"no pool {key!r} in the data's params (has: {', '.join(sorted(params))})")
    return [f"<{v}>" if "://" in v else v for v in params[key]]


def load_templates(names: list[str] | None = None, directory: Path = QUERIES_DIR) -> list[Template]:
    found = {p.stem: Template(p.stem, p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.rq"))}
    if names:
        missing = [n for n in names if n not in found]
        if missing:
            raise SystemExit(f"unknown benchmark queries: {', '.join(missing)} (have: {', '.join(found)})")
        return [found[n] for n in names]
    return list(found.values())


def load_params(data: Path) -> dict[str, list[str]]:
    return json.loads(data.with_name(data.name + ".params.json").read_text(encoding="utf-8"))
