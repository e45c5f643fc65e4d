"""`mljobs local-eais list|add`: the local pool's external access integrations (its EAI file).

On the local pool an EAI is an entry in `<state_dir>/local_eais.yaml`; adding one writes that file, so it
asks for confirmation first (`--yes` to confirm without asking). The pool re-reads the file when it changes.
"""

from __future__ import annotations

import argparse
from typing import Any

from mljobs.skill.diagnosis_network import eai_sql

from ..local_eais import LocalEaiSource, config_path
from .common import confirm, emit_json, service_from_args


def register(sub: Any) -> None:
    p = sub.add_parser("local-eais", help="list or add the local pool's EAIs (the hosts local jobs may reach)")
    verbs = p.add_subparsers(dest="local_eais_verb", metavar="VERB", required=True)
    show = verbs.add_parser("list", help="the local EAIs and their hosts")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=run_list)
    add = verbs.add_parser("add", help="add a local EAI, or hosts to one (writes the local EAI file, after confirmation)")
    add.add_argument("name", help="EAI name, e.g. API_OPENAI_COM_EAI")
    add.add_argument("--host", action="append", required=True, metavar="HOST[:PORT]",
                     help="host the EAI allows, Snowflake HOST_PORT syntax (443 when no port; :80 for http)")
    add.add_argument("--comment", help="what the EAI is for")
    add.add_argument("--yes", action="store_true", help="confirm without asking")
    add.add_argument("--json", action="store_true", help="print JSON")
    add.set_defaults(func=run_add)


def run_list(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    config = LocalEaiSource(service.settings).current()
    rows: list[dict[str, Any]] = [{"name": e.name, "hosts": list(e.hosts), "comment": e.comment}
                                  for e in config.eais.values()]
    if args.json:
        emit_json({"file": str(config_path(service.settings)), "from_file": config.path is not None, "eais": rows})
        return 0
    origin = str(config.path) if config.path else f"built-in defaults ({config_path(service.settings)} does not exist)"
    print(f"local EAIs from {origin}:")
    for row in rows:
        print(f"  {row['name']}: {', '.join(row['hosts'])}" + (f"  # {row['comment']}" if row["comment"] else ""))
    return 0


def run_add(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    change = service.preview_local_eai(args.name, args.host, args.comment)
    equivalent = eai_sql(change.eai.name, change.eai.hosts, facts=None, plan=None)
    if not change.added_hosts:
        message = f"{change.eai.name} already allows {', '.join(args.host)}; nothing to write"
        if args.json:
            emit_json({"written": False, "name": change.eai.name, "hosts": list(change.eai.hosts), "message": message})
        else:
            print(message)
        return 0
    verb = "Create local EAI" if change.created else "Add to local EAI"
    how = confirm(f"{verb} {change.eai.name} allowing {', '.join(change.added_hosts)} (writes {change.path})?",
                  assume_yes=args.yes)
    service.add_local_eai(change, service.confirm("add_local_eai", change.subject, method=how))
    if args.json:
        emit_json({"written": True, "file": str(change.path), "name": change.eai.name, "hosts": list(change.eai.hosts),
                   "added_hosts": list(change.added_hosts), "account_equivalent_sql": list(equivalent),
                   "confirmed_by": how})
        return 0
    print(f"{change.eai.name} now allows {', '.join(change.eai.hosts)} (written to {change.path}; "
          "the local pool reads it on the next plan or submit)")
    print("Snowflake account equivalent (for an admin, when you move to an account; the local pool needs none of it):")
    for statement in equivalent:
        print(f"  {statement}")
    return 0
