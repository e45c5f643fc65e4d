"""Every side effect of mljobs: Snowflake session, job backends, job store, checkpoints, MCP server and CLI."""
