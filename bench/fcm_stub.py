"""A stand-in for FCM for benchmarks: nginx speaking HTTP/2 over TLS, as fcm.googleapis.com does.

It answers every messages:send with a message name and /token with an access token, and
does nothing else: the point is to measure our fan-out, not FCM. nginx (C) costs little
of the 2 cores it shares with the worker; the Python stub this replaced answered about
2,100 requests/s and would now be the limit. The tests use the stricter server in
tests/notifications/fcm_server.py.

Like Google's front end it allows 100 concurrent streams per connection. The certificate
comes from a throwaway CA made here; the sender trusts it through ``ca_file``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from harness import children, ensure_tool, port_in_use, proc_cpu

CONF = """\
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  keepalive_requests 10000000;
  http2_max_concurrent_streams 100;
  server {{
    listen 127.0.0.1:{port} ssl http2;
    ssl_certificate {dir}/server.pem;
    ssl_certificate_key {dir}/server.key;
    default_type application/json;
    location = /token {{ return 200 '{{"access_token":"bench-token","expires_in":3600,"token_type":"Bearer"}}'; }}
    location ~ /messages:send$ {{ return 200 '{{"name":"projects/bench/messages/$request_id"}}'; }}
    location / {{ return 404 '{{}}'; }}
  }}
}}
"""


def _certificates(directory: Path) -> Path:
    """A CA and a server certificate for 127.0.0.1 signed by it; returns the CA file."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return directory / "ca.pem"


class NginxFcm:
    def __init__(self, directory: Path, port: int) -> None:
        self.directory, self.port = directory, port
        self.url = f"https://127.0.0.1:{port}"
        self.ca_file: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "NginxFcm":
        nginx = ensure_tool("nginx", "nginx-light")
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "body").mkdir(exist_ok=True)
        self.ca_file = _certificates(self.directory)
        conf = self.directory / "nginx.conf"
        conf.write_text(CONF.format(dir=self.directory, port=self.port))
        self._proc = subprocess.Popen([nginx, "-c", str(conf), "-e", str(self.directory / "error.log")])
        deadline = time.monotonic() + 10
        while not port_in_use(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: see {self.directory / 'error.log'}")
            time.sleep(0.05)
        return self

    def cpu_seconds(self) -> float:
        """CPU time nginx's processes have used (master and worker)."""
        assert self._proc is not None
        return sum(proc_cpu(pid) or 0.0 for pid in [self._proc.pid, *children(self._proc.pid)])

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
