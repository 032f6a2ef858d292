"""Stateless authentication: ``@authenticate`` and the backends it takes.

    from dyne.ext.auth.stateless import authenticate
    from dyne.ext.auth.stateless.backends import BasicAuth, TokenAuth, DigestAuth, MultiAuth

(all of them are also importable from ``dyne.ext.auth``).
"""

from .backends import DEFAULT_REALM, BasicAuth, DigestAuth, HTTPAuth, MultiAuth, TokenAuth, Verdict
from .decorator import authenticate, public
from .digest import MemoryNonceStore, NonceStore
from .oauth2 import OAuth2Bearer

__all__ = [
    "DEFAULT_REALM",
    "BasicAuth",
    "DigestAuth",
    "HTTPAuth",
    "MemoryNonceStore",
    "MultiAuth",
    "NonceStore",
    "OAuth2Bearer",
    "TokenAuth",
    "Verdict",
    "authenticate",
    "public",
]
