"""FCM as the sender meets it in production: HTTP/2 over TLS (ALPN "h2"), 100 streams per connection.

A TLS front for ``FcmServer``: every request goes to ``FcmServer.respond``, so the answers
(token prefixes, 401 on a revoked access token) and the records (``messages``, ``tries``)
are the HTTP/1.1 server's. It adds what only HTTP/2 has: ``connections`` records each
TLS connection with the protocol ALPN chose and the streams it carried, and
``goaway_after`` ends each connection gracefully (GOAWAY) after so many streams, as
Google's front ends do now and then.

The OAuth token endpoint stays on the plain-http server (the service account's
``token_uri``), so google-auth's ``requests`` need not trust the throwaway CA.

One thread per connection, blocking socket, the ``h2`` state machine (server side).
``ThrowawayCa`` makes the CA and the server's certificate (SAN IP 127.0.0.1).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hyperframe.frame
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.notifications.fcm_server import FcmServer

MAX_CONCURRENT_STREAMS = 100  # what Google's front end allows


class ThrowawayCa:
    """A certificate authority for one test run, written to ``directory/<name>.pem``."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory, self.name = directory, name
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
        now = dt.datetime.now(dt.timezone.utc)
        self.cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_file = directory / f"{name}.pem"
        self.cert_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, ip: str = "127.0.0.1") -> tuple[Path, Path]:
        """A server certificate for ``ip`` signed by this CA: (certificate file, key file)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ip)]))
            .issuer_name(self.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        cert_file, key_file = self.directory / f"{self.name}-{ip}.pem", self.directory / f"{self.name}-{ip}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert_file, key_file


@dataclass
class Connection:
    protocol: str | None  # what ALPN chose
    streams: int = 0  # requests answered on it
    error: str | None = None  # why it ended, when not cleanly (e.g. a client that rejected our certificate)


class FcmH2Server:
    def __init__(self, fcm: FcmServer, cert_file: Path, key_file: Path) -> None:
        self.fcm = fcm
        self.connections: list[Connection] = []  # every TLS connection whose handshake completed on our side
        self.handshake_errors: list[str] = []  # and why the others' did not
        self.protocol_errors: list[str] = []
        self.goaway_after: int | None = None  # close each connection gracefully after this many streams, as GFE does
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._context.load_cert_chain(cert_file, key_file)
        self._context.set_alpn_protocols(["h2"])
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> "FcmH2Server":
        self._thread.start()
        return self

    def stop(self) -> None:
        for sock in [self._listener, *self._open]:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked in accept/recv
            except OSError:
                pass
        self._listener.close()
        self._thread.join(5)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)
        try:
            try:
                tls = self._context.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as error:
                with self._lock:
                    self.handshake_errors.append(str(error))
                return
            record = Connection(tls.selected_alpn_protocol())
            with self._lock:
                self.connections.append(record)
            with tls:
                if record.protocol == "h2":
                    try:
                        self._speak_h2(tls, record)
                    except OSError as error:  # with TLS 1.3 a client that rejects our certificate leaves only now
                        record.error = str(error)
        finally:
            with self._lock:
                self._open.discard(sock)
            sock.close()

    def _speak_h2(self, tls: ssl.SSLSocket, record: Connection) -> None:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.local_settings = h2.settings.Settings(client=False, initial_values={
            h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_CONCURRENT_STREAMS,
            h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 65536,
        })
        conn.initiate_connection()
        tls.sendall(conn.data_to_send())
        streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        last: int | None = None  # after GOAWAY: the last stream we answer; the client retries later ones elsewhere
        while True:
            data = tls.recv(65536)
            if not data:
                return
            if last is not None and not any(i <= last for i in streams):
                continue  # all answered: wait for the client to close
            try:
                events = conn.receive_data(data)
            except h2.exceptions.ProtocolError as error:  # e.g. the client opened more streams than allowed
                with self._lock:
                    self.protocol_errors.append(repr(error))
                tls.sendall(conn.data_to_send())  # the GOAWAY
                return
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    if last is None or event.stream_id <= last:
                        streams[event.stream_id] = (dict(event.headers), bytearray())
                elif isinstance(event, h2.events.DataReceived):
                    if event.stream_id in streams:
                        streams[event.stream_id][1].extend(event.data)
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id in streams:
                    headers, body = streams.pop(event.stream_id)
                    status, reply_headers, answer = self.fcm.respond(headers[":method"], headers[":path"], headers,
                                                                     bytes(body))
                    conn.send_headers(event.stream_id, [(":status", str(status)),
                                                        *((k.lower(), v) for k, v in reply_headers.items()),
                                                        ("content-length", str(len(answer)))])
                    conn.send_data(event.stream_id, answer, end_stream=True)
                    record.streams += 1
                    if last is None and self.goaway_after is not None and record.streams >= self.goaway_after:
                        # a graceful GOAWAY: the streams already begun are answered, later ones refused. (h2's
                        # close_connection would stop us answering those still open, so the frame goes out raw.)
                        last = max(streams, default=event.stream_id)
                        goaway = hyperframe.frame.GoAwayFrame(0, last_stream_id=last, error_code=0)
                        tls.sendall(conn.data_to_send() + goaway.serialize())
                elif isinstance(event, h2.events.StreamReset):
                    streams.pop(event.stream_id, None)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    tls.sendall(conn.data_to_send())
                    return
            out = conn.data_to_send()
            if out:
                tls.sendall(out)
