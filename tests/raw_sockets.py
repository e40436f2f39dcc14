"""Raw sockets for tests of what a slow or hostile client meets: connect, read to the end,
and trickle bytes until the server answers (no HTTP client would send so badly)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from conftest import Served


def connect(server: Served) -> socket.socket:
    url = urlsplit(server.url)
    return socket.create_connection((url.hostname, url.port), timeout=10)


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset ends it too)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def trickle(sock: socket.socket, data: bytes, every: float) -> tuple[bytes, int]:
    """Send `data` a byte every `every` seconds until the server answers; (answer, bytes sent)."""
    sock.settimeout(every)
    sent = 0
    answer = b""
    for byte in data:
        try:
            sock.send(bytes([byte]))
            sent += 1
            answer = sock.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        if answer:
            break
    sock.settimeout(10)
    return answer + read_all(sock), sent
