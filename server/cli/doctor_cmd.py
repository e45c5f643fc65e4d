"""Account upkeep: `mljobs doctor` (read-only checks, each with its fix as SQL) and `mljobs cleanup` (payload
folders whose jobs are gone, removed only after confirmation)."""

from __future__ import annotations

import argparse

from .common import add_backend_options, confirm, emit_json, service_from_args


def register(sub: argparse._SubParsersAction) -> None:
    doctor = sub.add_parser(
        "doctor", help="check the Snowflake account for ML Jobs (read-only) and propose fixes as SQL")
    doctor.add_argument("path", nargs="?", help="a script or project whose plan decides pool, nodes and EAIs")
    doctor.add_argument("--entrypoint", help="the main file inside a project folder")
    doctor.add_argument("--pool", help="compute pool to check (default: the plan's, else the best visible one)")
    doctor.add_argument("--nodes", type=int, metavar="N", help="target instances the job will need")
    doctor.add_argument("--eai", action="append", default=[], metavar="NAME", help="an EAI the job will use")
    doctor.add_argument("--json", action="store_true", help="print JSON")
    add_backend_options(doctor)
    doctor.set_defaults(func=run_doctor_cmd)

    cleanup = sub.add_parser("cleanup", help="remove payload folders whose jobs no longer exist (asks first)")
    cleanup.add_argument("--stage", help="payload stage (default: @MLJOBS_PAYLOAD in the session's schema)")
    cleanup.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    cleanup.add_argument("--yes", action="store_true", help="confirm without asking")
    cleanup.add_argument("--json", action="store_true", help="print JSON")
    add_backend_options(cleanup)
    cleanup.set_defaults(func=run_cleanup_cmd)


def run_doctor_cmd(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    report = service.doctor(args.path, args.entrypoint, pool=args.pool, target_instances=args.nodes,
                            eais=tuple(args.eai))
    if args.json:
        emit_json(report)
    else:
        print(report.render(), end="")
    return 0 if report.ok else 1


def run_cleanup_cmd(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    found = service.orphan_payloads(args.stage)
    if not args.json:
        print(found.render())
    if args.dry_run or not found.orphans:
        if args.json:
            emit_json({"cleanup": found, "removed": []})
        return 0
    method = confirm(f"Remove these {len(found.orphans)} folder(s)?", assume_yes=args.yes)
    removed = service.clean_payloads(found, service.confirm("cleanup", found.subject, method=method))
    if args.json:
        emit_json({"cleanup": found, "removed": removed})
    else:
        print(f"removed {len(removed)} folder(s)")
    return 0
