"""Job backends behind one interface: Snowflake (snowflake-ml-python) and the local pool."""
