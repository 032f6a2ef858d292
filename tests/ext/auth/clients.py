"""Building credentials the way clients do, for tests that need control over
every field (a replayed ``nc``, a forged ``opaque``...)."""

from __future__ import annotations

import base64
import hashlib
import os

from dyne.ext.auth.stateless.headers import parse_auth_params, split_scheme

HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def digest_challenge(www_authenticate: str) -> dict[str, str]:
    """The parameters of the Digest challenge in a ``WWW-Authenticate`` value
    (which may list other challenges after it)."""
    scheme, rest = split_scheme(www_authenticate)
    assert scheme == "digest", www_authenticate
    # Other challenges (", Bearer realm=...") follow the digest parameters.
    params = {}
    for piece in rest.split(", "):
        if "=" not in piece or " " in piece.split("=", 1)[0]:
            break
        params.update(parse_auth_params(piece) or {})
    return params


def digest(challenge: dict[str, str], username: str, password: str, *, method: str = "GET",
           uri: str = "/", nc: int = 1, cnonce: str | None = None, ha1: str | None = None,
           replace: dict[str, str] | None = None) -> dict[str, str]:
    """An ``Authorization: Digest`` header answering ``challenge``; ``replace``
    overwrites fields after the response was computed."""
    algorithm = challenge.get("algorithm", "MD5")
    session = algorithm.upper().endswith("-SESS")
    name = HASHES[algorithm.upper().removesuffix("-SESS")]

    def h(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    realm, nonce, qop = challenge["realm"], challenge["nonce"], challenge.get("qop")
    cnonce = cnonce or os.urandom(8).hex()
    nc_text = f"{nc:08x}"
    a1 = ha1 or h(f"{username}:{realm}:{password}")
    if session:
        a1 = h(f"{a1}:{nonce}:{cnonce}")
    a2 = h(f"{method}:{uri}")
    response = h(f"{a1}:{nonce}:{nc_text}:{cnonce}:auth:{a2}") if qop else h(f"{a1}:{nonce}:{a2}")
    fields = {"username": username, "realm": realm, "nonce": nonce, "uri": uri,
              "response": response, "algorithm": algorithm}
    if "opaque" in challenge:
        fields["opaque"] = challenge["opaque"]
    if qop:
        fields.update(qop="auth", nc=nc_text, cnonce=cnonce)
    fields.update(replace or {})
    unquoted = {"qop", "nc", "algorithm"}
    parts = [f"{key}={value}" if key in unquoted else f'{key}="{value}"' for key, value in fields.items()]
    return {"Authorization": "Digest " + ", ".join(parts)}
