"""Tool modules: each `register(server)` adds its tools (and resources) to the server; see app.TOOL_MODULES."""
