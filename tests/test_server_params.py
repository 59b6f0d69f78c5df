"""The endpoint's query-string reader gives exactly what urllib.parse.parse_qsl gives."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl, quote, urlencode

import pytest

from explore_kg.server import parse_query_string


def reference(query_string: bytes) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return params


@pytest.mark.parametrize("query_string", [
    b"",
    b"query=SELECT+*+WHERE+%7B+%3Fs+%3Fp+%3Fo+%7D&format=json",
    urlencode({"query": 'SELECT * { ?s ?p "caf\u00e9 \\ \u65e5\u672c" } # a + b = c', "x": ""}).encode(),
    b"query=a%2Bb%3Dc&&default-graph-uri=http%3A%2F%2Fexample.org%2Fg&default-graph-uri=g2",
    b"query=%zz%4%&empty=&novalue&=x",  # malformed escapes stay as they are
    b"query=%C3%A9%E6%97%A5%FF%C3",  # bytes that are not UTF-8 become U+FFFD, as parse_qsl does
    b"query=back\\slash%5C%5Cx41\\x41%",
    "query=caf\u00e9".encode(),  # raw non-ASCII bytes (a lax client)
])
def test_examples(query_string):
    assert parse_query_string(query_string) == reference(query_string)


def test_random_strings_parse_like_parse_qsl():
    rnd = random.Random(7)
    pieces = ["%", "%4", "%41", "%7b", "%7B", "%C3%A9", "%E6%97", "%ZZ", "+", "=", "&", "\\", "\\x41", "a", "Z",
              "0", "?", "{", "~", quote("\u65e5"), "%0A", "%00", "%25", "%2B"]
    for _ in range(5000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 20))).encode("ascii")
        assert parse_query_string(text) == reference(text), text
