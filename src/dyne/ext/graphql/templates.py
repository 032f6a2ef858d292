"""``dyne.ext.graphql.templates``: Dyne 2.0.5's import path of the GraphiQL page.

``GRAPHIQL`` is a Jinja2 template of the GraphiQL page, rendered with
``endpoint`` (the GraphQL URL). It loads the GraphiQL copy bundled with dyne
(served once a ``GraphQLView`` is registered), so it works offline.
``GraphQLView`` renders its own page (``dyne.ext.graphql.graphiql``); this
template is for code that rendered the published one itself::

    resp.html = app.template_string(GRAPHIQL, endpoint="/graphql")
"""

from __future__ import annotations

from .graphiql import ASSETS_PATH, REACT, REACT_DOM
from .graphiql import GRAPHIQL as _GRAPHIQL

__all__ = ["GRAPHIQL"]

GRAPHIQL = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>GraphiQL</title>
  <link rel="stylesheet" href="{ASSETS_PATH}/{_GRAPHIQL}/graphiql.min.css">
  <style>html, body {{ margin: 0; height: 100%; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL&hellip;</div>
  <script src="{ASSETS_PATH}/{REACT}/react.production.min.js"></script>
  <script src="{ASSETS_PATH}/{REACT_DOM}/react-dom.production.min.js"></script>
  <script src="{ASSETS_PATH}/{_GRAPHIQL}/graphiql.min.js"></script>
  <script>
    var fetcher = GraphiQL.createFetcher({{ url: {{{{ endpoint|tojson }}}} }});
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{ fetcher: fetcher }})
    );
  </script>
</body>
</html>
"""
