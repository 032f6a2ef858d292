"""Compatibility module: ``from dyne.routes import Route, WebSocketRoute``."""

from .routing import BaseRoute, Route, Router, WebSocketRoute

__all__ = ["BaseRoute", "Route", "Router", "WebSocketRoute"]
