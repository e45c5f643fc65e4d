"""The rows the account doctor reads beyond discovery, on top of FakeSession (kept apart from snowpark.py).

Row shapes follow the Snowflake docs:
- SHOW IMAGE REPOSITORIES: created_on, name, database_name, schema_name, repository_url, owner,
  owner_role_type, comment ("SHOW IMAGE REPOSITORIES").
- SHOW PARAMETERS LIKE 'EVENT_TABLE' IN ACCOUNT: key, value, default, level, description, type
  ("SHOW PARAMETERS"); an unset event table has value '' (older accounts) and level ''.
- SHOW WAREHOUSES: name, state, type, size, ... owner (only warehouses the role may use are listed).
- SELECT CURRENT_USER(): one column, the user name.
"""

from __future__ import annotations

import re
from typing import Any

from .snowpark import FakeSession

REPOSITORY_COLUMNS = ("created_on", "name", "database_name", "schema_name", "repository_url", "owner",
                      "owner_role_type", "comment")
PARAMETER_COLUMNS = ("key", "value", "default", "level", "description", "type")
WAREHOUSE_COLUMNS = ("name", "state", "type", "size", "auto_suspend", "auto_resume", "owner")


class DoctorSession(FakeSession):
    """FakeSession plus image repositories, the EVENT_TABLE account parameter, warehouses and the user."""

    def __init__(self, *, user: str = "ALICE", event_table: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user
        self.event_table = event_table
        self.image_repositories: list[dict[str, Any]] = []
        self.warehouses: list[dict[str, Any]] = []

    def add_image_repository(self, fq_name: str) -> None:
        db, schema, name = fq_name.upper().split(".")
        self.image_repositories.append({
            "created_on": self.now, "name": name, "database_name": db, "schema_name": schema,
            "repository_url": f"org-acct.registry.snowflakecomputing.com/{db}/{schema}/{name}".lower(),
            "owner": self.role, "owner_role_type": "ROLE", "comment": None,
        })

    def add_warehouse(self, name: str, *, state: str = "SUSPENDED") -> None:
        self.warehouses.append({"name": name.upper(), "state": state, "type": "STANDARD", "size": "X-Small",
                                "auto_suspend": 600, "auto_resume": "true", "owner": "SYSADMIN"})

    def _h_image_repositories(self, m: re.Match[str], params: list[Any]) -> Any:
        return self._table(REPOSITORY_COLUMNS, self.image_repositories)

    def _h_event_table(self, m: re.Match[str], params: list[Any]) -> Any:
        level = "ACCOUNT" if self.event_table else ""
        return self._table(PARAMETER_COLUMNS, [{
            "key": "EVENT_TABLE", "value": self.event_table, "default": "", "level": level,
            "description": "Event destination for the given target.", "type": "STRING"}])

    def _h_warehouses(self, m: re.Match[str], params: list[Any]) -> Any:
        return self._table(WAREHOUSE_COLUMNS, self.warehouses)

    def _h_current_user(self, m: re.Match[str], params: list[Any]) -> Any:
        return ("USER_NAME",), [[self.user]]

    _HANDLERS = [
        (r"^SHOW IMAGE REPOSITORIES(?: IN ACCOUNT)?$", _h_image_repositories),
        (r"^SHOW PARAMETERS LIKE 'EVENT_TABLE' IN ACCOUNT$", _h_event_table),
        (r"^SHOW WAREHOUSES$", _h_warehouses),
        (r"^SELECT CURRENT_USER\(\)(?: AS \w+)?$", _h_current_user),
        *FakeSession._HANDLERS,
    ]
