"""mljobs: run a local ML script as a Snowflake ML Job (or on the local pool), with evidence for every decision."""

__version__ = "0.1.0"
