"""Session authentication: ``LoginManager`` (also importable from ``dyne.ext.auth``)."""

from .manager import SESSION_KEY, AuthFailureReason, LoginManager, LoginMiddleware

__all__ = ["SESSION_KEY", "AuthFailureReason", "LoginManager", "LoginMiddleware"]
