"""Compatibility module: ``from dyne.routes import Route, WebSocketRoute``."""

from .routing import Route, Router, WebSocketRoute

__all__ = ["Route", "Router", "WebSocketRoute"]
