"""`mljobs doctor`: read-only checks of the Snowflake account for ML Jobs, each with its fix as SQL."""

from __future__ import annotations

import argparse

from .common import add_backend_options, emit_json, service_from_args


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


def run_doctor_cmd(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    report = service.doctor(args.path, args.entrypoint, pool=args.pool, target_instances=args.nodes,
                            eais=tuple(args.eai))
    if args.json:
        emit_json(report)
    else:
        print(report.render(), end="")
    return 0 if report.ok else 1
