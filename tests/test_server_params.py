"""The endpoint's query-string reader gives exactly what urllib.parse.parse_qsl gives, except that what
is not UTF-8 (escaped or raw) is refused (400), never replaced by U+FFFD: issue 15."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl, quote, urlencode

import pytest

from explore_kg.server import ProtocolError, parse_query_string


def reference(query_string: bytes) -> dict[str, list[str]] | type[ProtocolError]:
    params: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(query_string.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return ProtocolError
    for key, value in pairs:
        params.setdefault(key, []).append(value)
    return params


def parsed(query_string: bytes) -> dict[str, list[str]] | type[ProtocolError]:
    try:
        return parse_query_string(query_string)
    except ProtocolError as e:
        assert e.status == 400 and "UTF-8" in e.message
        return ProtocolError


@pytest.mark.parametrize("query_string", [
    b"",
    b"query=SELECT+*+WHERE+%7B+%3Fs+%3Fp+%3Fo+%7D&format=json",
    urlencode({"query": 'SELECT * { ?s ?p "caf\u00e9 \\ \u65e5\u672c" } # a + b = c', "x": ""}).encode(),
    b"query=a%2Bb%3Dc&&default-graph-uri=http%3A%2F%2Fexample.org%2Fg&default-graph-uri=g2",
    b"query=%zz%4%&empty=&novalue&=x",  # malformed escapes stay as they are
    b"query=%C3%A9%E6%97%A5%FF%C3",  # escaped bytes that are not UTF-8: refused
    b"query=back\\slash%5C%5Cx41\\x41%",
    "query=caf\u00e9".encode(),  # raw non-ASCII bytes (a lax client), read as UTF-8
    b"query=caf\xe9",  # raw bytes that are not UTF-8: refused
])
def test_examples(query_string):
    assert parsed(query_string) == reference(query_string)


def test_random_strings_parse_like_parse_qsl():
    rnd = random.Random(7)
    pieces = ["%", "%4", "%41", "%7b", "%7B", "%C3%A9", "%E6%97", "%ZZ", "+", "=", "&", "\\", "\\x41", "a", "Z",
              "0", "?", "{", "~", quote("\u65e5"), "%0A", "%00", "%25", "%2B"]
    for _ in range(5000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 20))).encode("ascii")
        assert parsed(text) == reference(text), text
