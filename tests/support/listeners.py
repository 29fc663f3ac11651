"""Local servers for the egress tests: a TCP recorder that keeps whatever reaches it (proof
that nothing did), and a scripted HTTP(S) server, with a certificate for a host name."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class Recorder:
    """Accepts every TCP connection on ``host:port``, keeps the bytes sent to it and never
    answers."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, idle: float = 1.0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, port))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.idle = idle  # a connection silent this long is closed; nothing is ever answered
        self.connections = 0
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._keep, args=(conn,), daemon=True).start()

    def _keep(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.1)
            quiet = 0.0
            while quiet < self.idle and not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    quiet += 0.1
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                self.received += chunk
                quiet = 0.0

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def certificate(directory: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``host`` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{host}.pem", directory / f"{host}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class ScriptedServer:
    """HTTP on ``address``, https when given a certificate. Each request is kept as (SNI name,
    Host header, path); every answer is ``status`` with ``headers`` and ``body``."""

    def __init__(self, address: str, cert: tuple[Path, Path] | None = None, status: int = 200,
                 headers: dict[str, str] | None = None, body: bytes = b"{}") -> None:  # fmt: skip
        self.requests: list[tuple[str | None, str | None, str]] = []
        self.status, self.headers, self.body = status, headers or {}, body
        names: list[str | None] = []
        self.httpd = ThreadingHTTPServer((address, 0), self._handler(names))
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*cert)
            context.sni_callback = lambda _sock, name, _ctx: names.append(name)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port: int = self.httpd.server_address[1]
        self.url = f"{'https' if cert else 'http'}://{address}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def _handler(self, names: list[str | None]) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append((names[-1] if names else None,
                                        self.headers.get("Host"), self.path))  # fmt: skip
                self.send_response(server.status)
                for key, value in {"Content-Type": "application/json", **server.headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(server.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(server.body)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
