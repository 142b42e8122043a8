"""`yingji`: serve, db init, seed demo, users add, project, projections rebuild."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gateway.settings import Settings


def _settings(args: argparse.Namespace, **overrides: object) -> Settings:
    if getattr(args, "data_dir", None):
        os.environ["YINGJI_DATA_DIR"] = str(args.data_dir)
    if getattr(args, "metrics_port", None) is not None:
        overrides["metrics_port"] = args.metrics_port
    try:
        settings = Settings()
    except ValidationError as e:  # a bad YINGJI_* setting: say which and why, not a traceback
        raise SystemExit("yingji: bad settings:\n" + "\n".join(f"  {'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())) from None
    return settings.model_copy(update=overrides) if overrides else settings


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from gateway.container import Container
    from gateway.entrypoints.app import create_app

    settings = _settings(args)
    if not settings.is_postgres:  # before uvicorn, which would report it as a traceback
        from gateway.adapters.filestore import check_accounts_file

        check_accounts_file(settings.accounts_path)
    if args.demo:
        c = Container.build(settings)
        if c.log.max_position() == 0:
            from gateway.tools.seed import seed_demo

            print("seeding the demo district ...", flush=True)
            seed_demo(c)
        c.close()
        if not settings.sms_url and settings.run_notifier:
            # The demo's SMS goes to the stand-in provider, on a thread of this process (GET <url>/messages).
            import secrets as _secrets

            from gateway.tools.smsgateway import SmsGateway

            secret = _secrets.token_urlsafe(24)
            sms_url = SmsGateway(secret).serve("127.0.0.1", 0)
            settings = settings.model_copy(update={"sms_url": sms_url, "sms_secret": secret})
            print(f"demo SMS goes to the stand-in provider at {sms_url}/messages", flush=True)
    if args.workers > 1:
        serve_workers(args, settings)
        return
    app = create_app(settings)
    print(f"Yingji serving on http://{args.host}:{args.port}/  (board: /ui/board.html, API docs: /docs)", flush=True)
    # ws_max_size: uvicorn's default (16 MiB) let unauthenticated hellos grow the process for good.
    # log_config=None: uvicorn's loggers go through the process's (JSON) logging; its access log is
    # replaced by yingji.access, which knows the actor and route.
    if isinstance(level := logging.getLevelName(args.log_level.upper()), int):
        logging.getLogger().setLevel(level)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, ws_per_message_deflate=False,
                ws_max_size=settings.ws_max_bytes, log_config=None, access_log=False)


def worker_app() -> Any:
    """One of `yingji serve --workers N`'s gateway processes (uvicorn imports and calls this)."""
    from gateway.entrypoints.app import create_app
    from gateway.entrypoints.logs import configure_logging

    configure_logging()
    return create_app()


def serve_workers(args: argparse.Namespace, settings: Settings) -> None:
    """N gateway processes on one port, and the projector (with the watchdog and checkpoints), the
    relay and the notifier in processes of their own, so that serving never competes with projecting.

    Workers share the port (uvicorn's supervisor restarts a worker that dies); the projector is one
    process as it must be; without Redis each worker learns of new changes from the store's
    position (gateway/adapters/bus.py StoreBus)."""
    import subprocess
    import tempfile

    import uvicorn

    from gateway.container import Container

    c = Container.build(settings)  # the schema and the first admin, once, before any worker starts
    c.bootstrap_admin()
    c.close()
    env = {"YINGJI_RUN_PROJECTOR": "false", "YINGJI_RUN_RELAY": "false", "YINGJI_RUN_NOTIFIER": "false", "YINGJI_CREATE_SCHEMA": "false"}
    if settings.sms_url:  # the demo's stand-in provider, started above: the notifier process sends to it
        env |= {"YINGJI_SMS_URL": settings.sms_url, "YINGJI_SMS_SECRET": settings.sms_secret}
    os.environ.update(env)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="yingji-metrics-"))  # /metrics sums the workers
    me = [sys.executable, "-m", "gateway.entrypoints.cli"]
    children = [subprocess.Popen([*me, "project"])]
    if settings.upstream_url and settings.run_relay:
        children.append(subprocess.Popen([*me, "relay"]))
    if settings.run_notifier:
        children.append(subprocess.Popen([*me, "notify"]))
    if isinstance(level := logging.getLevelName(args.log_level.upper()), int):
        logging.getLogger().setLevel(level)
    print(f"Yingji serving on http://{args.host}:{args.port}/ with {args.workers} workers", flush=True)
    try:
        uvicorn.run("gateway.entrypoints.cli:worker_app", factory=True, workers=args.workers, host=args.host, port=args.port,
                    log_level=args.log_level, ws_per_message_deflate=False, ws_max_size=settings.ws_max_bytes,
                    log_config=None, access_log=False)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def cmd_db_init(args: argparse.Namespace) -> None:
    from gateway.container import init_schema

    init_schema(_settings(args))
    print("schema ready")


def cmd_seed_demo(args: argparse.Namespace) -> None:
    from gateway.tools.seed import DEMO_PASSWORD, seed_demo_store

    counts = seed_demo_store(_settings(args))
    print(f"demo district seeded: {counts}; accounts admin/commander/operator/field/reporter/observer, password {DEMO_PASSWORD}")


def cmd_users_add(args: argparse.Namespace) -> None:
    from gateway.container import Container

    from uuid import UUID

    from domain.common import DomainError
    from gateway.context import CommandContext, Principal
    from gateway.service_layer import commands as cmd

    password = args.password or os.environ.get("YINGJI_NEW_PASSWORD") or getpass.getpass("password: ")
    try:
        team = UUID(args.team) if args.team else None
    except ValueError:  # not a team id: no such team, as before
        raise SystemExit(f"yingji users add: refused (not_found): team {args.team} not found") from None
    c = Container.build(_settings(args))
    try:
        # The same command as POST /users: a consistent account, a password the policy allows. The operator at
        # the machine's shell acts as the platform (no account yet may exist).
        command = cmd.AddUser(args.username, password, args.role, args.unit, team, args.display_name or "")
        account = c.service.handle(CommandContext(Principal("cli", "system", "")), command).account
    except DomainError as e:
        raise SystemExit(f"yingji users add: refused ({e.code}): {e.detail}") from None
    finally:
        c.close()
    print(f"user {account['username']} ({account['role']}, {account['unit_code']}) created")


def cmd_project(args: argparse.Namespace) -> None:
    from gateway.container import Container
    from gateway.entrypoints.ops import projector_probe, serve_ops

    c = Container.build(_settings(args, create_schema=False, run_projector=False))
    stop = threading.Event()
    c.start_listening()
    c.start_checkpointer()
    c.start_watchdog()  # deadlines are checked where the projector runs; several watchdogs are safe too
    ops = serve_ops(projector_probe(c), c.settings.metrics_host, c.settings.metrics_port)
    print(f"projector following the log from position {c.projector.position}", flush=True)
    try:
        # PostgreSQL wakes it (LISTEN/NOTIFY); on SQLite another process's commit is only seen by polling.
        c.projector.run_forever(stop, poll_seconds=0.2 if c.settings.is_postgres else 0.05)
    except KeyboardInterrupt:
        pass
    finally:
        if ops is not None:
            ops.close()
        c.close()


def cmd_relay(args: argparse.Namespace) -> None:
    from gateway.container import Container
    from gateway.entrypoints.ops import relay_probe, serve_ops

    settings = _settings(args, create_schema=False, run_projector=False)
    if not settings.upstream_url:
        raise SystemExit("set YINGJI_UPSTREAM_URL (and YINGJI_UPSTREAM_SECRET) to relay to the city platform")
    c = Container.build(settings)
    relay = c.make_relay()
    stop = threading.Event()
    ops = serve_ops(relay_probe(relay), settings.metrics_host, settings.metrics_port)
    print(f"relay to {settings.upstream_url} from position {c.relay_state.read()['position']} (waits for the lease)", flush=True)
    try:
        relay.run_forever(stop)
    except KeyboardInterrupt:
        pass
    finally:
        if ops is not None:
            ops.close()
        relay.close()
        c.close()


def cmd_notify(args: argparse.Namespace) -> None:
    from gateway.container import Container
    from gateway.entrypoints.ops import notifier_probe, serve_ops

    settings = _settings(args, create_schema=False, run_projector=False)
    if not settings.sms_url and not settings.webpush:
        raise SystemExit("set YINGJI_SMS_URL (and YINGJI_SMS_SECRET), or keep YINGJI_WEBPUSH on, to notify anyone")
    c = Container.build(settings)
    notifier = c.make_notifier()
    stop = threading.Event()
    ops = serve_ops(notifier_probe(notifier), settings.metrics_host, settings.metrics_port)
    print(f"notifier from position {notifier.state.read()['position']} (waits for the lease)", flush=True)
    try:
        notifier.run_forever(stop)
    except KeyboardInterrupt:
        pass
    finally:
        if ops is not None:
            ops.close()
        notifier.close()
        c.close()


def cmd_export(args: argparse.Namespace) -> None:
    from gateway.tools.backup import export_log
    from gateway.container import Container

    settings = _settings(args, create_schema=False, run_projector=False)
    c = Container.build(settings)
    try:
        source = f"/districts/{settings.district_code}"
        if args.archive:
            from gateway.tools.backup import export_archive

            if args.file == "-":
                raise SystemExit("an archive needs a file name")
            manifest = export_archive(c.log, c.accounts, c.relay_state, source, settings.district_code, Path(args.file), evidence=c.evidence)
            print(f"exported {manifest['counts']['events']} events and {manifest['counts']['accounts']} accounts "
                  f"to {args.file} (head position {manifest['head']})", file=sys.stderr)
            return
        if args.file == "-":
            count = export_log(c.log, source, sys.stdout)
        else:
            with open(args.file, "w", encoding="utf-8") as out:
                count = export_log(c.log, source, out)
        if args.evidence:
            from gateway.tools.backup import export_evidence

            print(f"exported {export_evidence(c.evidence, Path(args.evidence))} evidence files", file=sys.stderr)
    finally:
        c.close()
    print(f"exported {count} events", file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> None:
    from gateway.tools.backup import RestoreRefused, import_log
    from gateway.container import Container

    import zipfile

    from gateway.tools.backup import import_archive

    settings = _settings(args, run_projector=False)
    c = Container.build(settings)
    try:
        if zipfile.is_zipfile(args.file):
            done = import_archive(c.log, c.accounts, c.relay_state, Path(args.file), settings.district_code,
                                  until_position=args.until_position, until=args.until, evidence=c.evidence)
            c.rebuild()
            kept = f"; kept the accounts already here: {', '.join(done['accounts_kept'])}" if done["accounts_kept"] else ""
            print(f"imported {done['events']} events (head {done['head']}) and {done['accounts']} accounts{kept}, "
                  f"{done['evidence']} evidence files, relay position {done['relay_position']}; rebuilt the read models")
            return
        if args.until_position is not None or args.until is not None:
            raise SystemExit("--until and --until-position need an archive (yingji export --archive)")
        with open(args.file, encoding="utf-8") as lines:
            count = import_log(c.log, lines)
        if args.evidence:
            from gateway.tools.backup import import_evidence

            print(f"imported {import_evidence(c.evidence, Path(args.evidence))} evidence files")
        c.rebuild()
    except RestoreRefused as e:
        raise SystemExit(f"import refused: {e}") from None
    finally:
        c.close()
    print(f"imported {count} events and rebuilt the read models")


def cmd_rebuild(args: argparse.Namespace) -> None:
    from gateway.container import Container

    c = Container.build(_settings(args, run_projector=False))

    def progress(position: int, head: int) -> None:
        if sys.stderr.isatty():
            width = 40
            filled = int(width * position / max(head, 1))
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {position}/{head}", end="", file=sys.stderr)

    try:
        done = c.rebuild(progress)
        print(f"\nrebuilt read models from {done} events (position {c.projector.position})")
    finally:
        c.close()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["upstream"]:  # the stand-in has its own options; hand them over untouched
        from gateway.tools.upstream import main as upstream_main

        upstream_main(argv[1:])
        return
    if argv[:1] == ["sms-gateway"]:  # the stand-in SMS provider, likewise
        from gateway.tools.smsgateway import main as sms_main

        sms_main(argv[1:])
        return
    from gateway.entrypoints.logs import configure_logging

    configure_logging()  # JSON lines (YINGJI_LOG_FORMAT=text for plain ones)
    p = argparse.ArgumentParser(prog="yingji", description="Yingji 应急 command and dispatch platform")
    p.add_argument("--data-dir", type=Path, help="where the embedded SQLite files live (YINGJI_DATA_DIR)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the API, board and projector in one process")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--demo", action="store_true", help="seed the demo district first if the store is empty")
    s.add_argument("--log-level", default="info")
    s.add_argument("--workers", type=int, default=1,
                   help="gateway processes (N > 1: the projector and the relay run in processes of their own)")
    s.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("init", help="create every table (run once, before workers)").set_defaults(func=cmd_db_init)

    seed = sub.add_parser("seed", help="demo data").add_subparsers(dest="seed_command", required=True)
    seed.add_parser("demo", help="seed the demo district into an empty store").set_defaults(func=cmd_seed_demo)

    users = sub.add_parser("users", help="accounts").add_subparsers(dest="users_command", required=True)
    ua = users.add_parser("add", help="create an account")
    ua.add_argument("username")
    ua.add_argument("--role", required=True, choices=["admin", "commander", "operator", "field", "reporter", "observer"])
    ua.add_argument("--unit", required=True, help="12-digit unit code")
    ua.add_argument("--team", help="team id (field accounts)")
    ua.add_argument("--password", help="or YINGJI_NEW_PASSWORD, or asked")
    ua.add_argument("--display-name")
    ua.set_defaults(func=cmd_users_add)

    metrics_help = "serve /healthz, /readyz and /metrics on this port (YINGJI_METRICS_PORT; 0 = off, default)"
    pj = sub.add_parser("project", help="run the projector alone (scaled deployments)")
    pj.add_argument("--metrics-port", type=int, help=metrics_help)
    pj.set_defaults(func=cmd_project)
    rl = sub.add_parser("relay", help="mirror the log to the city platform (YINGJI_UPSTREAM_URL)")
    rl.add_argument("--metrics-port", type=int, help=metrics_help)
    rl.set_defaults(func=cmd_relay)
    sub.add_parser("upstream", help="run the stand-in of the city platform (demos, tests); see `yingji upstream --help`")
    nt = sub.add_parser("notify", help="run the notifier alone (SMS, Web Push; a second one waits)")
    nt.add_argument("--metrics-port", type=int, help=metrics_help)
    nt.set_defaults(func=cmd_notify)
    sub.add_parser("sms-gateway", help="run the stand-in SMS provider (demos, tests); see `yingji sms-gateway --help`")
    ex = sub.add_parser("export", help="back up: the whole district as one archive (--archive), or the log as CloudEvents JSON lines")
    ex.add_argument("file", help="output file, or - for stdout (log only)")
    ex.add_argument("--archive", action="store_true", help="a zip with the log, accounts (password hashes), relay position and a checksummed manifest")
    ex.add_argument("--evidence", help="also write the evidence files (photos, documents) into this directory")
    ex.set_defaults(func=cmd_export)
    im = sub.add_parser("import", help="restore an archive or a log export into an empty store")
    im.add_argument("file")
    im.add_argument("--until-position", type=int, help="restore the log up to this position (an investigation copy)")
    im.add_argument("--until", type=datetime.fromisoformat, help="restore the log up to this moment (ISO 8601 with time zone)")
    im.add_argument("--evidence", help="also load the evidence files an export wrote into this directory")
    im.set_defaults(func=cmd_import)
    pr = sub.add_parser("projections", help="read models").add_subparsers(dest="projections_command", required=True)
    pr.add_parser("rebuild", help="rebuild every read model from the log").set_defaults(func=cmd_rebuild)

    args = p.parse_args(argv)
    from gateway.adapters.filestore import AccountsFileDamaged

    try:
        args.func(args)
    except AccountsFileDamaged as e:  # say what to do, not a traceback
        raise SystemExit(f"yingji: {e}") from None


if __name__ == "__main__":
    main()
