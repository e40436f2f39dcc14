"""Binding the listening sockets before uvicorn starts, so a refusal is one line that says what to do.

uvicorn binds inside its own start-up and answers a port in use with its raw
`[Errno 98]` and exit 3. specmock binds first (the same options uvicorn uses) and hands
the sockets over; `ListenError` carries a sentence per errno. Invariant: the sockets
returned are bound and listening, all on one port.
"""

from __future__ import annotations

import errno
import socket

#: uvicorn's own backlog.
BACKLOG = 2048


class ListenError(Exception):
    """The address cannot be listened on; the message says why and what to do."""


def listen(host: str, port: int) -> list[socket.socket]:
    """Sockets listening on every address `host` resolves to (localhost: IPv4 and IPv6), one port.

    With port 0 the first address picks a free port and the others take the same one; should
    another program hold that port on a second address, a new free port is tried (a few times).
    """
    for _ in range(PICK_TRIES - 1):
        try:
            return _listen(host, port)
        except _Taken:
            continue
    try:
        return _listen(host, port)
    except _Taken as taken:
        raise ListenError(str(taken)) from None


#: How often `--port 0` tries another free port when the one picked is taken on a second address.
PICK_TRIES = 3


class _Taken(ListenError):
    """With port 0: the port picked on the first address is in use on another one."""


def _listen(host: str, port: int) -> list[socket.socket]:
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(
            f"cannot listen on {host!r}: {exc.strerror}; give --host an address of this machine, "
            "such as 127.0.0.1 or 0.0.0.0"
        ) from None
    sockets: list[socket.socket] = []
    seen: set[tuple[int, str | int]] = set()
    for family, kind, proto, _, address in addresses:
        if (family, address[0]) in seen:
            continue
        seen.add((family, address[0]))
        chosen = sockets[0].getsockname()[1] if sockets else port
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address[0], chosen, *address[2:]))
            sock.listen(BACKLOG)
        except OSError as exc:
            sock.close()
            if sockets and exc.errno == errno.EADDRNOTAVAIL:
                continue  # localhost's IPv6 address where IPv6 is off: IPv4 serves
            for bound in sockets:
                bound.close()
            if sockets and port == 0 and exc.errno == errno.EADDRINUSE:
                raise _Taken(_reason(exc, host, chosen)) from None
            raise ListenError(_reason(exc, host, chosen)) from None
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


def _reason(exc: OSError, host: str, port: int) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use on {host}: stop what holds it, or pick another port (--port 0 picks a free one)"
    if exc.errno == errno.EACCES:
        return (
            f"permission denied listening on {where}: ports below 1024 need privileges; "
            "use a port of 1024 or more (--port 0 picks a free one)"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: give --host one of its addresses, such as 127.0.0.1"
    return f"cannot listen on {where}: {exc.strerror or exc}"
