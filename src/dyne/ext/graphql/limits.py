"""Size limits checked on a query before any GraphQL library sees it.

Parsing and validating a GraphQL document costs time in proportion to its
size (and validation can be worse than linear), so a client must not be able
to hand the server an arbitrarily large or deeply nested document. One
regular-expression pass counts tokens and bracket nesting; it is about a
tenth of the cost of parsing, and does not build anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["QueryLimits", "check_query"]

# One alternative per token kind. Strings and comments are matched whole so
# that brackets inside them are not counted. An unterminated string runs to
# the end of its line (or of the document, for block strings); the parser
# reports it properly afterwards.
_TOKENS = re.compile(
    r'"""(?:\\"""|[^"]|"(?!""))*(?:"""|$)'  # block string
    r'|"(?:\\.|[^"\\\n\r])*"?'  # string
    r"|(#)[^\n\r]*"  # comment (group 1): not a token
    r"|([{(\[])"  # opening bracket (group 2)
    r"|([})\]])"  # closing bracket (group 3)
    r"|\.\.\."  # spread
    r"|[_A-Za-z0-9.+\-]+"  # names and numbers
    r"|[^\s,\ufeff]"  # any other punctuator (or a character the parser will refuse)
)


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Largest query accepted: ``max_length`` characters, ``max_tokens``
    lexical tokens, ``max_depth`` levels of nested ``{}``/``()``/``[]``.
    ``None`` disables a limit."""

    max_length: int | None = 100_000
    max_tokens: int | None = 15_000
    max_depth: int | None = 64


def check_query(query: str, limits: QueryLimits) -> str | None:
    """The reason ``query`` exceeds ``limits``, or ``None`` when it does not."""
    if limits.max_length is not None and len(query) > limits.max_length:
        return f"Query is too long: {len(query)} characters (the limit is {limits.max_length})."
    max_tokens = limits.max_tokens
    max_depth = limits.max_depth
    if max_tokens is None and max_depth is None:
        return None
    tokens = depth = 0
    for found in _TOKENS.finditer(query):
        comment, opening, closing = found.groups()
        if comment is not None:
            continue
        tokens += 1
        if max_tokens is not None and tokens > max_tokens:
            return f"Query has too many tokens (the limit is {max_tokens})."
        if opening is not None:
            depth += 1
            if max_depth is not None and depth > max_depth:
                return f"Query is nested too deeply (the limit is {max_depth} levels)."
        elif closing is not None:
            depth -= 1
    return None
