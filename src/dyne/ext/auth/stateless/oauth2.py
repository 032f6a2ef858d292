"""``OAuth2Bearer``: bearer tokens issued by an OAuth2 authorization server,
documented in OpenAPI as an ``oauth2`` security scheme with its flows, so the
docs UIs' "Authorize" button can obtain a token (the password flow against
your own token endpoint, or the authorization-code flow against a provider).

Checking the token is ``TokenAuth``'s job (``@oauth2.verify_token``); this
class only adds what the OpenAPI document says about where tokens come from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .backends import TokenAuth

__all__ = ["OAUTH2_FLOWS", "OAuth2Bearer"]

#: OpenAPI's flow names, and the URLs each one needs.
OAUTH2_FLOWS: dict[str, tuple[str, ...]] = {
    "password": ("tokenUrl",),
    "authorizationCode": ("authorizationUrl", "tokenUrl"),
    "clientCredentials": ("tokenUrl",),
    "implicit": ("authorizationUrl",),
}


class OAuth2Bearer(TokenAuth):
    """``Authorization: Bearer <token>`` where the token comes from an OAuth2
    token endpoint.

    :param token_url: the token endpoint (``"/token"`` for one of the app's
        routes, or a provider's absolute URL).
    :param authorization_url: the authorization endpoint, for the
        authorization-code flow.
    :param scopes: the scopes a client may ask for, ``{name: description}``.
    :param flows: which OpenAPI flows to document: by default
        ``"authorizationCode"`` when ``authorization_url`` is given, else
        ``"password"``.
    :param refresh_url: the refresh endpoint, when there is one.
    :param scheme_name: the security scheme's name in the document.
    """

    def __init__(self, *, token_url: str | None = None, authorization_url: str | None = None,
                 scopes: Mapping[str, str] | None = None, flows: Iterable[str] | None = None,
                 refresh_url: str | None = None, scheme_name: str = "oauth2",
                 realm: str | None = None) -> None:
        super().__init__("Bearer", realm=realm)
        if flows is None:
            flows = ["authorizationCode"] if authorization_url is not None else ["password"]
        else:
            flows = list(flows)
        if not flows:
            raise ValueError("OAuth2Bearer needs at least one flow")
        urls = {"tokenUrl": token_url, "authorizationUrl": authorization_url}
        for flow in flows:
            if flow not in OAUTH2_FLOWS:
                raise ValueError(f"Unknown OAuth2 flow {flow!r} (known: {', '.join(OAUTH2_FLOWS)})")
            missing = [name for name in OAUTH2_FLOWS[flow] if not urls[name]]
            if missing:
                wanted = " and ".join("token_url" if name == "tokenUrl" else "authorization_url"
                                      for name in missing)
                raise ValueError(f"The {flow} flow needs {wanted}")
        scopes = dict(scopes or {})
        if not all(isinstance(key, str) and isinstance(value, str) for key, value in scopes.items()):
            raise TypeError("scopes= maps scope names to descriptions (strings)")
        self.token_url = token_url
        self.authorization_url = authorization_url
        self.refresh_url = refresh_url
        self.scopes = scopes
        self.flows = flows
        self.scheme_name = scheme_name

    def security_schemes(self) -> dict[str, dict[str, Any]]:
        urls = {"tokenUrl": self.token_url, "authorizationUrl": self.authorization_url}
        flows: dict[str, dict[str, Any]] = {}
        for flow in self.flows:
            described: dict[str, Any] = {name: urls[name] for name in OAUTH2_FLOWS[flow]}
            if self.refresh_url is not None:
                described["refreshUrl"] = self.refresh_url
            described["scopes"] = dict(self.scopes)
            flows[flow] = described
        return {self.scheme_name: {"type": "oauth2", "flows": flows}}

    def __repr__(self) -> str:
        return f"OAuth2Bearer(flows={self.flows!r}, token_url={self.token_url!r})"
