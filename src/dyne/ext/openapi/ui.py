"""The documentation pages (Swagger UI, ReDoc, RapiDoc, Stoplight Elements, Scalar)
and the route that serves their JavaScript and CSS.

Each UI's browser build ships inside the package (``assets/``, one directory
per npm package and version, with its licence files) and is served by the
application, so ``/docs`` works with no internet access. Asset URLs carry
the package version, which lets browsers cache them for a year.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from dyne.formats import json_for_script

if TYPE_CHECKING:
    from dyne.app import App
    from dyne.request import Request
    from dyne.response import Response
    from dyne.routing import BaseRoute

__all__ = ["ASSETS_PATH", "PACKAGES", "THEMES", "add_assets_route", "docs_page"]

#: Where the assets are served: ``/_dyne/openapi/<package>/<file>``.
ASSETS_PATH = "/_dyne/openapi"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"

SWAGGER_UI = "swagger-ui-dist-5.35.0"
REDOC = "redoc-2.5.2"
RAPIDOC = "rapidoc-9.3.8"
ELEMENTS = "stoplight-elements-9.0.25"
SCALAR = "scalar-api-reference-1.76.0"

#: Every file the asset route serves: package directory -> file names. Nothing
#: outside this table is reachable.
PACKAGES: dict[str, tuple[str, ...]] = {
    SWAGGER_UI: ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE",
                 "swagger-ui-bundle.js.LICENSE.txt"),
    REDOC: ("redoc.standalone.js", "LICENSE", "redoc.standalone.js.LICENSE.txt"),
    RAPIDOC: ("rapidoc-min.js", "LICENSE.txt", "rapidoc-min.js.LICENSE.txt"),
    ELEMENTS: ("web-components.min.js", "styles.min.css", "LICENSE",
               "web-components.min.js.LICENSE.txt"),
    SCALAR: ("standalone.js", "LICENSE"),
}
_CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
#: The URLs change with every version, so a cached copy never goes stale.
CACHE_CONTROL = "public, max-age=31536000, immutable"

THEMES = ("swaggerui", "redoc", "rapidoc", "elements", "scalar")

#: The docs page may load scripts, styles, images, fonts and workers from the
#: app only (``data:`` and ``blob:`` URLs included): a UI that would fetch a
#: logo or a font from the internet cannot, and degrades gracefully instead.
#: Requests to the API itself ("Try it out") may go to any server.
CONTENT_SECURITY_POLICY = ("default-src 'self' data: blob:; script-src 'self' 'unsafe-inline'; "
                           "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
                           "font-src 'self' data:; worker-src 'self' blob:; connect-src *")


async def serve_asset(req: Request, resp: Response, *, package: str, filename: str) -> None:
    """``GET /_dyne/openapi/{package}/{filename}``: one of the bundled files."""
    if filename not in PACKAGES.get(package, ()):
        from dyne.exceptions import HTTPException

        raise HTTPException(404, "No such documentation asset")
    path = ASSETS_DIR / package / filename
    resp.file(path, content_type=_CONTENT_TYPES.get(path.suffix, "text/plain; charset=utf-8"))
    resp.headers["Cache-Control"] = CACHE_CONTROL
    resp.headers["X-Content-Type-Options"] = "nosniff"


def add_assets_route(app: App) -> BaseRoute:
    """Register the asset route on ``app`` (GET and HEAD only)."""
    return app.add_route(f"{ASSETS_PATH}/{{package}}/{{filename}}", serve_asset, methods=["GET"],
                         name="dyne.openapi_asset", include_in_schema=False)




_HEAD = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" href="data:,">
{head}
</head>
<body>
{body}
</body>
</html>
"""


def _swaggerui(assets: str, spec_url: str) -> tuple[str, str]:
    config = {"url": spec_url, "dom_id": "#swagger-ui", "deepLinking": True,
              # No call to the public validator service: the page stays offline.
              "validatorUrl": None, "layout": "BaseLayout"}
    head = f'  <link rel="stylesheet" href="{assets}/{SWAGGER_UI}/swagger-ui.css">\n' \
           "  <style>body { margin: 0; }</style>"
    body = (f'<div id="swagger-ui"></div>\n'
            f'<script src="{assets}/{SWAGGER_UI}/swagger-ui-bundle.js"></script>\n'
            f"<script>\nconst config = {json_for_script(config)};\n"
            "config.presets = [SwaggerUIBundle.presets.apis];\n"
            "window.ui = SwaggerUIBundle(config);\n</script>")
    return head, body


def _redoc(assets: str, spec_url: str) -> tuple[str, str]:
    head = "  <style>body { margin: 0; padding: 0; }</style>"
    body = (f'<redoc spec-url="{html.escape(spec_url)}"></redoc>\n'
            f'<script src="{assets}/{REDOC}/redoc.standalone.js"></script>')
    return head, body


def _rapidoc(assets: str, spec_url: str) -> tuple[str, str]:
    head = f'  <script type="module" src="{assets}/{RAPIDOC}/rapidoc-min.js"></script>'
    # load-fonts="false": RapiDoc would otherwise fetch its fonts from Google.
    body = (f'<rapi-doc spec-url="{html.escape(spec_url)}" load-fonts="false" render-style="read" '
            'show-header="false" allow-spec-url-load="false" allow-spec-file-load="false">'
            "</rapi-doc>")
    return head, body


def _elements(assets: str, spec_url: str) -> tuple[str, str]:
    head = (f'  <script src="{assets}/{ELEMENTS}/web-components.min.js"></script>\n'
            f'  <link rel="stylesheet" href="{assets}/{ELEMENTS}/styles.min.css">\n'
            "  <style>body { margin: 0; height: 100vh; }</style>")
    body = (f'<elements-api apiDescriptionUrl="{html.escape(spec_url)}" router="hash" '
            'layout="sidebar"></elements-api>')
    return head, body


def _scalar(assets: str, spec_url: str) -> tuple[str, str]:
    # Offline: no fonts from fonts.scalar.com, no telemetry, no developer
    # toolbar (which it shows on localhost by default).
    config = {"url": spec_url, "withDefaultFonts": False, "telemetry": False,
              "showDeveloperTools": "never"}
    head = "  <style>body { margin: 0; }</style>"
    body = (f'<div id="app"></div>\n'
            f'<script src="{assets}/{SCALAR}/standalone.js"></script>\n'
            f"<script>\nScalar.createApiReference('#app', {json_for_script(config)});\n</script>")
    return head, body


_RENDERERS = {"swaggerui": _swaggerui, "redoc": _redoc, "rapidoc": _rapidoc, "elements": _elements,
              "scalar": _scalar}


def docs_page(theme: str, title: str, spec_url: str, root_path: str = "") -> str:
    """The HTML of the documentation page for ``theme``, reading the document
    at ``spec_url``."""
    head, body = _RENDERERS[theme](f"{root_path}{ASSETS_PATH}", spec_url)
    return _HEAD.format(title=html.escape(title), head=head, body=body)
