"""Feature view definitions (Snowpark DataFrames, no data leaves Snowflake)."""
