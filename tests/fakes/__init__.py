"""Test doubles for the outside world (a duck-typed Snowpark session that the real snowflake-ml-python drives)."""

from .jobservice import FakeJob
from .snowpark import FakeSession, Statement
from .sqltext import sql_error

__all__ = ["FakeJob", "FakeSession", "Statement", "sql_error"]
