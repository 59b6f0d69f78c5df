"""Who may write: the token file of ``serve --writable --token-file FILE``.

One ``name:token`` per line (``#`` comments and blank lines allowed); the name is what the change log
records as who made a change. A write must send ``Authorization: Bearer <token>``: nothing else counts
(no cookie, no query-string parameter: so no cross-site request can write, and no token lands in a log
or a browser's history). Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
from pathlib import Path

MIN_TOKEN_LENGTH = 16


class TokenFileError(ValueError):
    """A token file that cannot be used (the message names file:line)."""


def read_tokens(path: str | Path) -> dict[str, str]:
    """token -> name, from the file; raises TokenFileError naming the line at fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise TokenFileError(f"{path}: cannot read the token file: {getattr(e, 'strerror', None) or e}") from None
    tokens: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, token = line.partition(":")
        name, token = name.strip(), token.strip()
        if not sep or not name or not token:
            raise TokenFileError(f"{path}:{number}: expected name:token")
        if len(token) < MIN_TOKEN_LENGTH:
            raise TokenFileError(f"{path}:{number}: the token of {name!r} is shorter than {MIN_TOKEN_LENGTH} "
                                 "characters (make one with: python -c 'import secrets; print(secrets.token_urlsafe())')")
        if token in tokens:
            raise TokenFileError(f"{path}:{number}: the token of {name!r} is also {tokens[token]!r}'s")
        tokens[token] = name
    if not tokens:
        raise TokenFileError(f"{path}: the token file holds no name:token line")
    return tokens


class AuthError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def authenticate(tokens: dict[str, str], authorization: str | None) -> str:
    """The name of the writer whose token the Authorization header carries; AuthError 401/403 otherwise."""
    if not authorization:
        raise AuthError(401, "writing needs a token: send Authorization: Bearer <token>")
    scheme, _, given = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise AuthError(401, "the Authorization header must be: Bearer <token>")
    given_bytes = given.strip().encode("utf-8")
    found = None
    for token, name in tokens.items():
        if hmac.compare_digest(token.encode("utf-8"), given_bytes):
            found = name
    if found is None:
        raise AuthError(403, "this token may not write here")
    return found
