"""dyne: a batteries-included, async-first Python web framework.

    import dyne

    app = dyne.App()

    @app.route("/")
    async def hello(req, resp):
        resp.media = {"hello": "world"}

Extensions live under ``dyne.ext`` and are imported only when you import them.
"""

from .__version__ import __version__
from .app import App
from .exceptions import HTTPException, abort
from .request import Request
from .response import Response

__all__ = ["App", "HTTPException", "Request", "Response", "__version__", "abort"]
