"""The application factory: ``dyne --app app:create_app run`` (the default
``DYNE_APP`` of this project, see ``.env``) or
``uvicorn app:create_app --factory``."""

import dyne
from app.configs import Config
from app.extensions import db


def create_app() -> dyne.App:
    """Build the app from ``Config``: its lists register the models, the
    database extension, the middleware, the exception handler, the
    controllers and the CLI commands."""
    app = dyne.App(config=Config)
    app.on_event("startup")(db.create_all)

    @app.route("/health")
    async def health(req, resp):
        """Health check (a function view beside the controllers)."""
        resp.media = {"status": "healthy", "app": req.app.settings.APP_NAME}

    return app
