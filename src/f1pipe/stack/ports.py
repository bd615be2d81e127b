"""Free loopback ports for services started by tests and benchmarks."""

from __future__ import annotations

import random
import socket


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free on 127.0.0.1 a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port_range(count: int, low: int = 20_000, high: int = 32_000) -> int:
    """The first of ``count`` consecutive ports that were all free on 127.0.0.1 a moment ago
    (a local cluster's nodes listen on consecutive ports). Below Linux's ephemeral range
    (32768-60999): a node killed and restarted finds its port still free, not taken by some
    client's outgoing connection meanwhile."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(low, high - count)
        sockets = [socket.socket() for _ in range(count)]
        try:
            for offset, sock in enumerate(sockets):
                sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise OSError(f"no {count} consecutive free ports between {low} and {high}")
