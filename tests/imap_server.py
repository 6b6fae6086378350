"""A private Dovecot IMAP server for the adapter tests: real protocol, real TLS, no mocks.

Each test session starts its own `dovecot -F` with a config file written to a fresh
directory: its own base_dir and state_dir (so it never meets a system Dovecot or another
test run), listeners on free 127.0.0.1 ports (imap with STARTTLS, and imaps), a certificate
signed by a throwaway CA made at start-up, and a passwd-file of users with plain passwords.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import grp
import ipaddress
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

DOVECOT = Path("/usr/sbin/dovecot")
HOST = "127.0.0.1"
# Debian ships pre-generated DH parameters; generating them at start-up would take minutes.
DEBIAN_DH_PARAMS = Path("/usr/share/dovecot/dh.pem")
START_TIMEOUT_SECONDS = 20.0
USER_POOL_SIZE = 200  # more than the tests need: one fresh user (mailbox) per test
START_ATTEMPTS = 3  # a free port may be taken between picking it and Dovecot binding it

_APPEND_UID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")


@dataclass
class DovecotServer:
    host: str
    imap_port: int  # plain IMAP, STARTTLS offered
    imaps_port: int  # implicit TLS
    ca_file: Path  # the CA that signed the server certificate
    log_file: Path
    users_file: Path
    users: dict[str, str] = field(default_factory=dict)  # user name -> password
    _unused_users: Iterator[str] = field(default_factory=lambda: iter(()), repr=False)

    def add_user(self, name: str, password: str) -> None:
        """Adds a user, and returns once Dovecot accepts its login.

        Dovecot looks at the passwd-file at most once a second, so a user added in the same
        second as the previous change can take a moment to appear: prefer `fresh_user`.
        """
        self.users[name] = password
        self._write_users()
        deadline = time.monotonic() + 5
        while True:
            try:
                self.client(name).logout()
                return
            except LoginError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def fresh_user(self) -> tuple[str, str]:
        """A user nobody has logged in as: an empty mailbox, uids from 1."""
        name = next(self._unused_users, None)
        if name is None:  # the pool written at start-up is used up: make another
            name = f"player{len(self.users) + 1}"
            self.add_user(name, _password_for(name))
        return name, self.users[name]

    def write_user_pool(self, size: int) -> None:
        # Written once before start-up, so no test waits for Dovecot to re-read the file.
        pool = [f"player{number}" for number in range(1, size + 1)]
        self.users.update({name: _password_for(name) for name in pool})
        self._unused_users = iter(pool)
        self._write_users()

    def _write_users(self) -> None:
        lines = "".join(f"{user}:{{PLAIN}}{secret}::::::\n" for user, secret in self.users.items())
        # Replace the file whole so Dovecot never reads half a line.
        staging = self.users_file.with_suffix(".new")
        staging.write_text(lines)
        staging.chmod(0o644)
        staging.replace(self.users_file)

    def client(self, user: str) -> IMAPClient:
        """A logged-in plain-IMAP connection, for arranging and checking mailboxes in tests."""
        imap = IMAPClient(self.host, port=self.imap_port, ssl=False, timeout=10)
        try:
            imap.login(user, self.users[user])
        except BaseException:
            imap.shutdown()
            raise
        return imap

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> int:
        """Puts one message into the mailbox with IMAP APPEND; returns its uid."""
        with self.client(user) as imap:
            if folder.upper() != "INBOX" and not imap.folder_exists(folder):
                imap.create_folder(folder)
            response = imap.append(folder, raw)
        found = _APPEND_UID.search(response)
        if found is None:
            raise RuntimeError(f"APPEND gave no APPENDUID: {response!r}")
        return int(found.group(1))

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return "(no log written)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def running_dovecot() -> Iterator[DovecotServer]:
    """Starts a private Dovecot, yields it once both ports accept, stops it afterwards."""
    # Not pytest's tmp_path: that directory is private to root (0700), and Dovecot's
    # unprivileged processes (login, mail) must reach their sockets and the maildirs.
    root = Path(tempfile.mkdtemp(prefix="pd-dovecot-"))
    try:
        root.chmod(0o755)
        ca_file = write_test_certificates(root)
        server: DovecotServer | None = None
        last_error = ""
        for _attempt in range(START_ATTEMPTS):
            server = DovecotServer(
                host=HOST,
                imap_port=_free_port(),
                imaps_port=_free_port(),
                ca_file=ca_file,
                log_file=root / "dovecot.log",
                users_file=root / "users",
            )
            server.users["agent"] = "agent-password"
            server.write_user_pool(USER_POOL_SIZE)
            config = _write_config(root, server)
            process = _start(config, root)
            try:
                last_error = _wait_until_listening(process, server)
            except BaseException:
                _stop(process)
                raise
            if not last_error:
                break
            _stop(process)
            if "in use" not in last_error:  # only a port taken meanwhile is worth a retry
                raise RuntimeError(f"Dovecot did not start: {last_error}")
        else:
            raise RuntimeError(f"Dovecot did not start: {last_error}")
        assert server is not None
        try:
            yield server
        finally:
            _stop(process)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _password_for(user: str) -> str:
    return f"{user}-{secrets.token_hex(6)}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class _RunAs:
    """Who Dovecot's processes run as."""

    internal_user: str
    internal_group: str
    login_user: str
    mail_uid: int
    mail_gid: int


def _run_as() -> _RunAs:
    """As root: the Debian package's own unprivileged users, and `mail` for mailbox access.

    Otherwise everything runs as the caller, which Dovecot supports when chroots are off
    and the ports are above 1024.
    """
    if os.geteuid() == 0:
        mail = _first_existing_user("mail", "nobody")
        return _RunAs("dovecot", "dovecot", "dovenull", mail.pw_uid, mail.pw_gid)
    me = pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(me.pw_gid).gr_name
    return _RunAs(me.pw_name, group, me.pw_name, me.pw_uid, me.pw_gid)


def _first_existing_user(*names: str) -> pwd.struct_passwd:
    for name in names:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError(f"none of the users {names} exists")


def _write_config(root: Path, server: DovecotServer) -> Path:
    run_as = _run_as()
    mail_root = root / "mail"
    mail_root.mkdir(exist_ok=True)
    os.chown(mail_root, run_as.mail_uid, run_as.mail_gid)
    as_root = os.geteuid() == 0
    # Chroot needs root; an unprivileged Dovecot runs its login processes without one.
    no_chroot = "" if as_root else "  chroot =\n"
    dh_params = f"ssl_dh = <{DEBIAN_DH_PARAMS}\n" if DEBIAN_DH_PARAMS.exists() else ""
    config = root / "dovecot.conf"
    config.write_text(
        f"""# Written by tests/imap_server.py for one test session.
protocols = imap
listen = {server.host}
base_dir = {root}/run
state_dir = {root}/state
instance_name = playerdesk-test-{server.imap_port}
log_path = {server.log_file}
info_log_path = {server.log_file}
default_internal_user = {run_as.internal_user}
default_internal_group = {run_as.internal_group}
default_login_user = {run_as.login_user}

ssl = yes
ssl_cert = <{root}/server.crt
ssl_key = <{root}/server.key
{dh_params}
# Connections from 127.0.0.1 count as secure, so LOGIN works on the plain port as well.
disable_plaintext_auth = no
# Tests fail logins on purpose: no delay on each failure (see also service anvil below).
auth_failure_delay = 0
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {server.users_file}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {server.users_file}
}}

mail_uid = {run_as.mail_uid}
mail_gid = {run_as.mail_gid}
first_valid_uid = {run_as.mail_uid}
last_valid_uid = {run_as.mail_uid}
first_valid_gid = {run_as.mail_gid}
last_valid_gid = {run_as.mail_gid}
mail_home = {mail_root}/%u
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
# Dovecot uses inotify to wake IDLE sessions; polling every second is the fallback where
# inotify is unavailable (some container file systems).
mailbox_idle_check_interval = 1 secs

service imap-login {{
  inet_listener imap {{
    address = {server.host}
    port = {server.imap_port}
  }}
  inet_listener imaps {{
    address = {server.host}
    port = {server.imaps_port}
    ssl = yes
  }}
{no_chroot}}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  # Closing this socket turns off the auth penalty, which would otherwise delay every later
  # login from 127.0.0.1 by seconds after a test's deliberate login failure.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
{no_chroot}}}
"""
    )
    return config


def _start(config: Path, root: Path) -> subprocess.Popen[bytes]:
    # Errors before Dovecot opens its log (a bad config) go to stderr: keep them with the log.
    with (root / "dovecot.stderr").open("ab") as stderr:
        return subprocess.Popen(  # noqa: S603 - fixed binary, arguments we wrote
            [str(DOVECOT), "-F", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,  # its own process group, so stopping it takes the children
        )


def _wait_until_listening(process: subprocess.Popen[bytes], server: DovecotServer) -> str:
    """Returns "" once both ports accept, else why not (with the end of Dovecot's log)."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"dovecot exited with {process.returncode}\n{_startup_output(server)}"
        if _accepts(server.host, server.imap_port) and _accepts(server.host, server.imaps_port):
            return ""
        time.sleep(0.05)
    return f"ports not open after {START_TIMEOUT_SECONDS:.0f} s\n{_startup_output(server)}"


def _startup_output(server: DovecotServer) -> str:
    stderr_file = server.log_file.with_name("dovecot.stderr")
    stderr = stderr_file.read_text(errors="replace").strip() if stderr_file.exists() else ""
    return f"--- stderr ---\n{stderr}\n--- {server.log_file} ---\n{server.log_tail()}"


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # the master stops its children on SIGTERM
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    # Anything of this instance still alive is in the group created for it at start.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def write_test_certificates(root: Path) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost; returns the CA file.

    A proper CA + leaf pair (not one self-signed leaf) so that strict verification, as
    newer Pythons do by default, accepts the chain.
    """
    now = dt.datetime.now(dt.UTC)
    validity = (now - dt.timedelta(days=1), now + dt.timedelta(days=30))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PlayerDesk test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )

    ca_file = root / "ca.crt"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (root / "server.crt").write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_file = root / "server.key"
    key_file.touch(mode=0o600)
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_file


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not cert_sign,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
