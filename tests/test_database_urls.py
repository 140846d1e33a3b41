"""Database URLs as hosted PostgreSQL providers write them (SPEC 12), translated once (db.engine) for asyncpg.

The translation's refusals and arguments first; then real connections: TLS in every sslmode to a PostgreSQL
with a throwaway certificate authority, a client certificate, a unix socket, application_name and connect_timeout.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from db.engine import DatabaseUrlError, create_engine, database_target
from settings import Config, ConfigError
from tests.deploy_support import CERT_USER, Authority, TlsServer, cli_env, postgres_with_tls, run_cli, tls_server

HOST = "postgresql://casetime:secret@db.example.com/casetime"


class TestTranslation:
    def test_a_plain_url_connects_with_asyncpg_and_nothing_more(self) -> None:
        # when
        target = database_target("postgres://casetime:secret@db.example.com:6543/casetime")
        # then
        assert target.url.render_as_string(hide_password=False) == (
            "postgresql+asyncpg://casetime:secret@db.example.com:6543/casetime"
        )
        assert target.connect_args == {}
        assert target.application_name == "casetime"
        assert target.address == "db.example.com:6543"

    def test_a_unix_socket_host_and_port_are_asyncpgs_host_and_port(self) -> None:
        # when
        target = database_target("postgresql://casetime@/casetime?host=/var/run/postgresql&port=5433")
        # then
        assert target.url.query == {}
        assert target.connect_args == {"host": "/var/run/postgresql", "port": 5433}
        assert target.address == "/var/run/postgresql"

    def test_an_ipv6_address_is_written_in_brackets(self) -> None:
        assert database_target("postgresql://casetime@[::1]:5433/casetime").address == "[::1]:5433"

    def test_connect_timeout_is_asyncpgs_timeout_and_zero_waits_for_ever(self) -> None:
        assert database_target(f"{HOST}?connect_timeout=7").connect_args == {"timeout": 7.0}
        assert database_target(f"{HOST}?connect_timeout=0").connect_args == {"timeout": None}

    def test_application_name_replaces_casetimes_own(self) -> None:
        assert database_target(f"{HOST}?application_name=casetime-eu-1").application_name == "casetime-eu-1"

    @pytest.mark.parametrize("mode", ["disable", "allow", "prefer"])
    def test_the_modes_that_may_fall_back_are_asyncpgs_own(self, mode: str) -> None:
        assert database_target(f"{HOST}?sslmode={mode}").connect_args == {"ssl": mode}

    def test_require_encrypts_without_verifying(self) -> None:
        context = database_target(f"{HOST}?sslmode=require").connect_args["ssl"]
        assert isinstance(context, ssl.SSLContext)
        assert (context.verify_mode, context.check_hostname) == (ssl.CERT_NONE, False)

    def test_require_with_a_root_certificate_verifies_the_chain_as_libpq_does(self, authority: Path) -> None:
        context = database_target(f"{HOST}?sslmode=require&sslrootcert={authority}").connect_args["ssl"]
        assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, False)
        assert len(context.get_ca_certs()) == 1

    def test_verify_ca_checks_the_chain_and_verify_full_the_name_too(self, authority: Path) -> None:
        verify_ca = database_target(f"{HOST}?sslmode=verify-ca&sslrootcert={authority}").connect_args["ssl"]
        verify_full = database_target(f"{HOST}?sslmode=verify-full&sslrootcert={authority}").connect_args["ssl"]
        assert (verify_ca.verify_mode, verify_ca.check_hostname) == (ssl.CERT_REQUIRED, False)
        assert (verify_full.verify_mode, verify_full.check_hostname) == (ssl.CERT_REQUIRED, True)

    def test_the_system_roots_imply_verify_full(self) -> None:
        context = database_target(f"{HOST}?sslrootcert=system").connect_args["ssl"]
        assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)

    @pytest.mark.parametrize(
        ("query", "refusal"),
        [
            ("sslmode=on", "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got 'on'"),
            ("sslmode=verify-full", "sslmode=verify-full needs sslrootcert"),
            ("sslmode=verify-ca&sslrootcert=/nowhere/ca.pem", "sslrootcert file '/nowhere/ca.pem' does not exist"),
            ("sslmode=require&sslrootcert=system", "sslrootcert=system needs sslmode=verify-full"),
            ("sslmode=require&sslkey=/etc/hostname", "sslkey needs sslcert"),
            ("sslmode=prefer&sslcert=/etc/hostname", "sslcert needs sslmode=require, verify-ca or verify-full"),
            ("sslmode=require&sslcert=/nowhere/client.crt", "sslcert file '/nowhere/client.crt' does not exist"),
            ("connect_timeout=5s", "connect_timeout must be a whole number of seconds, got '5s'"),
            ("port=0", "port must be a whole number from 1 to 65535, got '0'"),
            ("sslmode=require&target_session_attrs=read-write", "unknown parameter 'target_session_attrs'"),
            ("sslmode=require&sslmode=disable", "parameter 'sslmode' is given more than once"),
        ],
    )
    def test_what_cannot_be_used_is_refused_by_name(self, query: str, refusal: str) -> None:
        with pytest.raises(DatabaseUrlError) as refused:
            database_target(f"{HOST}?{query}")
        assert str(refused.value).startswith(refusal)

    def test_a_file_that_is_no_certificate_is_refused(self, tmp_path: Path) -> None:
        # given
        garbage = tmp_path / "ca.pem"
        garbage.write_text("not a certificate\n")
        # when / then
        with pytest.raises(DatabaseUrlError, match=f"sslrootcert file '{garbage}' cannot be used"):
            database_target(f"{HOST}?sslmode=verify-full&sslrootcert={garbage}")

    @pytest.mark.parametrize("url", ["mysql://casetime:secret@db/casetime", "postgresql://casetime:secret@db:x/y"])
    def test_a_url_of_another_kind_is_refused_without_its_password(self, url: str) -> None:
        with pytest.raises(DatabaseUrlError) as refused:
            database_target(url)
        assert "secret" not in str(refused.value)

    @pytest.mark.parametrize("port", ["0", "65536", "99999"])
    def test_a_port_out_of_range_in_the_url_is_refused(self, port: str) -> None:
        with pytest.raises(DatabaseUrlError, match="port must be a whole number from 1 to 65535"):
            database_target(f"postgresql://casetime:secret@db:{port}/casetime")

    @pytest.mark.parametrize("variable", ["DATABASE_URL", "DATABASE_READ_URL"])
    def test_settings_refuse_either_url_naming_it(self, variable: str) -> None:
        env = {"DATABASE_URL": HOST, variable: f"{HOST}?sslmode=always"}
        with pytest.raises(ConfigError, match=f"^{variable}: sslmode must be one of"):
            Config.from_env(env)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA certificate file, for what reads one without connecting."""
    path = tmp_path_factory.mktemp("authority") / "ca.pem"
    path.write_bytes(Authority.make("casetime unit CA").pem)
    return path


@pytest.fixture(scope="module")
def tls() -> Iterator[TlsServer]:
    with tls_server(postgres_with_tls()) as server:
        yield server


async def session_facts(url: str) -> tuple[bool | None, str, str | None]:
    """(TLS in use, who we are, the server's address) of one connection made as the app makes them."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT s.ssl, current_user, host(inet_server_addr())"
                        " FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()"
                    )
                )
            ).one()
            return row[0], row[1], row[2]
    finally:
        await engine.dispose()


async def uses_tls(url: str) -> bool | None:
    return (await session_facts(url))[0]


class TestTls:
    async def test_require_encrypts(self, tls: TlsServer) -> None:
        assert await uses_tls(tls.url("sslmode=require")) is True

    async def test_require_with_a_root_certificate_refuses_a_server_it_does_not_sign(self, tls: TlsServer) -> None:
        with pytest.raises(ssl.SSLCertVerificationError):
            await uses_tls(tls.url(f"sslmode=require&sslrootcert={tls.other_ca}"))

    async def test_verify_ca_accepts_the_chain_whatever_the_name(self, tls: TlsServer) -> None:
        # the certificate names localhost, not 127.0.0.1
        assert await uses_tls(tls.url(f"sslmode=verify-ca&sslrootcert={tls.ca}")) is True

    async def test_verify_full_accepts_the_chain_and_the_name(self, tls: TlsServer) -> None:
        assert await uses_tls(tls.url(f"sslmode=verify-full&sslrootcert={tls.ca}", host="localhost")) is True

    async def test_verify_full_refuses_a_name_the_certificate_does_not_hold(self, tls: TlsServer) -> None:
        with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
            await uses_tls(tls.url(f"sslmode=verify-full&sslrootcert={tls.ca}"))

    async def test_the_app_migrates_over_verified_tls(self, tls: TlsServer) -> None:
        # given: the URL alembic is handed too (migrations/env.py connects through db.engine)
        url = tls.url(f"sslmode=verify-full&sslrootcert={tls.ca}&application_name=casetime-migrate", host="localhost")
        # when
        finished = await run_cli("migrate", env=cli_env(DATABASE_URL=url))
        # then
        assert finished.status == 0, finished.stderr
        assert finished.stdout.startswith("casetime: migrations applied: ")

    async def test_the_app_refuses_to_start_on_a_server_of_another_authority(self, tls: TlsServer) -> None:
        # given
        url = tls.url(f"sslmode=verify-full&sslrootcert={tls.other_ca}", host="localhost")
        # when
        finished = await run_cli("migrate", env=cli_env(DATABASE_URL=url))
        # then
        assert finished.refusal.startswith(f"casetime: cannot reach the database at localhost:{tls.port}: ")
        assert "certificate verify failed" in finished.refusal

    @pytest.mark.parametrize(("mode", "encrypted"), [("disable", False), ("allow", False), ("prefer", True)])
    async def test_the_modes_that_may_fall_back_choose_as_libpq_does(
        self, tls: TlsServer, mode: str, encrypted: bool
    ) -> None:
        # allow tries a plain connection first, prefer TLS first; this server takes both
        assert await uses_tls(tls.url(f"sslmode={mode}")) is encrypted

    async def test_a_client_certificate_logs_in(self, tls: TlsServer) -> None:
        # given
        query = f"sslmode=verify-full&sslrootcert={tls.ca}&sslcert={tls.client_cert}&sslkey={tls.client_key}"
        # when
        encrypted, user, _ = await session_facts(tls.url(query, host="localhost", user=CERT_USER))
        # then
        assert (encrypted, user) == (True, CERT_USER)

    async def test_without_the_client_certificate_that_user_is_refused(self, tls: TlsServer) -> None:
        with pytest.raises(Exception, match="certificate"):
            await uses_tls(tls.url(f"sslmode=verify-full&sslrootcert={tls.ca}", host="localhost", user=CERT_USER))

    async def test_a_unix_socket_directory_and_port_in_the_query(self, tls: TlsServer) -> None:
        # when
        encrypted, _, server_address = await session_facts(
            f"postgresql://postgres@/postgres?host={tls.socket_dir}&port={tls.port}"
        )
        # then: no TCP address on a unix socket, and no TLS there (libpq uses none on sockets either)
        assert (encrypted, server_address) == (False, None)


class TestSessionSettings:
    async def test_application_name_reaches_the_server(self, database_url: str) -> None:
        # given
        url = f"{database_url}{'&' if '?' in database_url else '?'}application_name=casetime-worker-7"
        engine = create_engine(url, pool_size=1)
        # when
        try:
            async with engine.connect() as conn:
                name = (
                    await conn.execute(
                        text("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")
                    )
                ).scalar_one()
        finally:
            await engine.dispose()
        # then
        assert name == "casetime-worker-7"

    async def test_connect_timeout_bounds_the_wait_for_a_silent_server(self) -> None:
        # given: a port that accepts connections and never answers
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            engine = create_engine(f"postgresql://casetime@127.0.0.1:{silent.getsockname()[1]}/x?connect_timeout=1")
            started = time.monotonic()
            # when / then
            with pytest.raises(TimeoutError):
                async with engine.connect():
                    pass
            await engine.dispose()
        assert time.monotonic() - started < 5  # asyncpg's own default would wait 60 s
