"""A small but real OpenID provider for the tests, served on loopback: a
discovery document, a JWKS, an authorization endpoint (which logs "alice" in
at once) and a token endpoint checking the client's secret, the redirect URI
and the PKCE verifier, and issuing ID tokens signed RS256 with joserfc.

``provider.tamper`` makes the next ID tokens wrong in one way, for the
rejection tests: ``"nonce"``, ``"expired"``, ``"audience"``, ``"issuer"``,
``"unknown_key"`` (signed by a key the JWKS does not list) or
``"forged_key"`` (a key claiming the provider's key id).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey

import dyne


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Provider:
    def __init__(self, client_id: str = "dyne-app", client_secret: str = "s3cret-" + "x" * 20,
                 user: str = "alice") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.user = user
        self.issuer = ""
        self.tamper: str | None = None
        self.key = RSAKey.generate_key(2048, parameters={"kid": "op-1", "use": "sig", "alg": "RS256"})
        self.rogue = RSAKey.generate_key(2048, parameters={"kid": "rogue", "alg": "RS256"})
        self.forger = RSAKey.generate_key(2048, parameters={"kid": "op-1", "alg": "RS256"})
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_requests: list[dict[str, str]] = []
        self.jwks_fetches = 0
        self.app = self._make_app()

    def _make_app(self) -> dyne.App:
        app = dyne.App(csrf=False)

        @app.get("/.well-known/openid-configuration")
        async def discovery(req, resp):
            resp.media = {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/jwks")
        async def jwks(req, resp):
            self.jwks_fetches += 1
            resp.media = {"keys": [self.key.as_dict(private=False)]}

        @app.get("/authorize")
        async def authorize(req, resp):
            params = req.params
            redirect_uri = params.get("redirect_uri", "")
            if (params.get("client_id") != self.client_id or params.get("response_type") != "code"
                    or not redirect_uri.startswith("http://127.0.0.1:")
                    or params.get("code_challenge_method") != "S256"
                    or not params.get("code_challenge") or "openid" not in params.get("scope", "").split()):
                resp.status_code = 400
                resp.media = {"error": "invalid_request"}
                return
            code = secrets.token_urlsafe(24)
            self.codes[code] = {"nonce": params.get("nonce"), "challenge": params["code_challenge"],
                                "redirect_uri": redirect_uri}
            query = urlencode({"code": code, "state": params.get("state", "")})
            resp.redirect(f"{redirect_uri}?{query}", status_code=302)

        @app.post("/token")
        async def token(req, resp):
            form = dict((await req.form()).items())
            self.token_requests.append(form)
            expected = "Basic " + base64.b64encode(
                f"{self.client_id}:{self.client_secret}".encode()).decode()
            grant = self.codes.pop(form.get("code", ""), None)
            if req.headers.get("authorization") != expected:
                resp.status_code = 401
                resp.media = {"error": "invalid_client"}
            elif (grant is None or form.get("grant_type") != "authorization_code"
                  or form.get("redirect_uri") != grant["redirect_uri"]
                  or _s256(form.get("code_verifier", "")) != grant["challenge"]):
                resp.status_code = 400
                resp.media = {"error": "invalid_grant"}
            else:
                resp.media = {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
                              "expires_in": 300, "id_token": self.id_token(grant["nonce"])}

        return app

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "sub": self.user, "aud": self.client_id,
                                  "iat": now, "exp": now + 300, "nonce": nonce,
                                  "email": f"{self.user}@example.test"}
        key = self.key
        tamper = self.tamper
        if tamper == "nonce":
            claims["nonce"] = "not-the-nonce"
        elif tamper == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        elif tamper == "audience":
            claims["aud"] = "another-app"
        elif tamper == "issuer":
            claims["iss"] = "http://evil.example"
        elif tamper == "unknown_key":
            key = self.rogue
        elif tamper == "forged_key":
            key = self.forger
        header = {"alg": "RS256", "kid": key.kid}
        return jwt.encode(header, claims, key)
