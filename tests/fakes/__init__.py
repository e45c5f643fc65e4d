"""Test doubles for the outside world (a duck-typed Snowpark session that the real snowflake-ml-python drives)."""

from .snowpark import FakeJob, FakeSession, Statement, sql_error

__all__ = ["FakeJob", "FakeSession", "Statement", "sql_error"]
