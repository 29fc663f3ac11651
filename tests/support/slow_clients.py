"""Slow clients (issue 20 point 11): connections that send a request's headers a byte at a time
and never finish them, as a slow or hostile client on a poor network does. Used by the
``hub serve`` test and by bench/slow_clients.py, which runs the same check against gunicorn."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

REQUEST_START = b"POST /webhooks/fakepush/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


class SlowClients:
    """``count`` open connections to ``host:port``, each sent the start of a request, then one
    more header byte every ``interval`` seconds by a background thread, until the block ends."""

    def __init__(self, host: str, port: int, count: int = 100, interval: float = 0.5) -> None:
        self.address = (host, port)
        self.count = count
        self.interval = interval
        self.sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drip, name="slow-clients", daemon=True)

    def __enter__(self) -> SlowClients:
        for _ in range(self.count):
            sock = socket.create_connection(self.address, timeout=5)
            sock.sendall(REQUEST_START)
            sock.setblocking(False)  # open_count() peeks without waiting
            self.sockets.append(sock)
        self._thread.start()
        time.sleep(self.interval)  # every connection has been read from at least once
        return self

    def _drip(self) -> None:
        while not self._stop.wait(self.interval):
            for sock in self.sockets:
                try:
                    sock.send(b"a")
                except OSError:
                    continue  # the server closed it: open_count() says so

    def open_count(self) -> int:
        """How many of the connections the server still holds open without having answered."""
        held = 0
        for sock in self.sockets:
            try:
                sock.recv(1, socket.MSG_PEEK)  # b"" or an answer: the server let it go
            except BlockingIOError:
                held += 1
            except OSError:
                pass
        return held

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()
