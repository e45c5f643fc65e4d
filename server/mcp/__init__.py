"""The mljobs MCP server: `build_server(settings)` (app.py) over tool modules (tools/), one shared state
(state.py), output models (models.py) built from the domain values in views.py, and the confirmation flow
(confirm.py)."""

from .app import build_server

__all__ = ["build_server"]
