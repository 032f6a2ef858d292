"""The GraphiQL page, and the route that serves its JavaScript and CSS.

GraphiQL's browser bundle, React and ReactDOM ship inside the package
(``assets/``, with their licences) and are served by the application, so
the page works with no internet access. Their URLs carry the package
version, which lets browsers cache them for a year.
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

__all__ = ["ASSETS_PATH", "GRAPHIQL_PACKAGES", "add_assets_route", "graphiql_page"]

#: Where the assets are served (``/_dyne/graphiql/graphiql-3.8.3/graphiql.min.js``).
ASSETS_PATH = "/_dyne/graphiql"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"

#: Every file the asset route serves: package directory -> file names. Nothing
#: outside this table is reachable.
GRAPHIQL, REACT, REACT_DOM = "graphiql-3.8.3", "react-18.3.1", "react-dom-18.3.1"
GRAPHIQL_PACKAGES: dict[str, tuple[str, ...]] = {
    GRAPHIQL: ("graphiql.min.js", "graphiql.min.css", "LICENSE"),
    REACT: ("react.production.min.js", "LICENSE"),
    REACT_DOM: ("react-dom.production.min.js", "LICENSE"),
}
_CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    "": "text/plain; charset=utf-8",
}
#: The URLs change with every version, so a cached copy never goes stale.
CACHE_CONTROL = "public, max-age=31536000, immutable"


async def serve_asset(req: Request, resp: Response, *, package: str, filename: str) -> None:
    """``GET /_dyne/graphiql/{package}/{filename}``: one of the bundled files."""
    if filename not in GRAPHIQL_PACKAGES.get(package, ()):
        from dyne.exceptions import HTTPException

        raise HTTPException(404, "No such GraphiQL asset")
    path = ASSETS_DIR / package / filename
    resp.file(path, content_type=_CONTENT_TYPES[path.suffix])
    resp.headers["Cache-Control"] = CACHE_CONTROL
    resp.headers["X-Content-Type-Options"] = "nosniff"


def add_assets_route(app: App) -> BaseRoute:
    """Register the asset route on ``app`` (GET and HEAD only)."""
    return app.add_route(f"{ASSETS_PATH}/{{package}}/{{filename}}", serve_asset, methods=["GET"],
                         name="dyne.graphiql_asset", include_in_schema=False)


def asset_url(req: Request, package: str, filename: str) -> str:
    return f"{req.scope.get('root_path', '')}{ASSETS_PATH}/{package}/{filename}"




_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>{title}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{css}">
  <style>
    html, body {{ margin: 0; height: 100%; overflow: hidden; }}
    #graphiql {{ height: 100vh; }}
  </style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL&hellip;</div>
  <script src="{react}"></script>
  <script src="{react_dom}"></script>
  <script src="{graphiql}"></script>
  <script id="graphiql-config" type="application/json">{config}</script>
  <script>
    (function () {{
      var config = JSON.parse(document.getElementById("graphiql-config").textContent);
      var props = {{
        fetcher: GraphiQL.createFetcher({{ url: config.endpoint }}),
        defaultEditorToolbarOpen: Boolean(config.variables),
      }};
      ["query", "variables", "operationName"].forEach(function (name) {{
        if (config[name]) props[name] = config[name];
      }});
      var root = ReactDOM.createRoot(document.getElementById("graphiql"));
      root.render(React.createElement(GraphiQL, props));
    }})();
  </script>
</body>
</html>
"""


def graphiql_page(req: Request, *, title: str = "GraphiQL") -> str:
    """The GraphiQL page for the GraphQL endpoint ``req`` was sent to. A
    ``query``, ``variables`` or ``operationName`` in the URL pre-fills it."""
    params = req.params
    config = {
        "endpoint": f"{req.scope.get('root_path', '')}{req.path}",
        "query": params.get("query") or params.get("q") or "",
        "variables": params.get("variables") or "",
        "operationName": params.get("operationName") or "",
    }
    return _PAGE.format(
        title=html.escape(title),
        css=html.escape(asset_url(req, GRAPHIQL, "graphiql.min.css")),
        react=html.escape(asset_url(req, REACT, "react.production.min.js")),
        react_dom=html.escape(asset_url(req, REACT_DOM, "react-dom.production.min.js")),
        graphiql=html.escape(asset_url(req, GRAPHIQL, "graphiql.min.js")),
        config=json_for_script(config),
    )
