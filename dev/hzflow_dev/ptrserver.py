"""A PTR server on loopback for the demo, the tests and the benchmarks.

An asyncio UDP server in its own thread (dnslib builds and parses the
packets; the plain PTR question is answered by hand, the same bytes at a
third of the CPU).  It answers reverse queries from a fixed table, or with a
synthetic name `host-a-b-c-d.<domain>` for any public address when
`synthetic` is set; everything else is NXDOMAIN.  `delay` holds every
answer back without blocking the others (a slow upstream resolver);
`silent` never answers (a resolver that times out), `unanswered` never
answers for those addresses (a resolver that fails for some).  `queries`
counts what it was asked, `asked` how often each address was.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import threading
from collections import Counter

from dnslib import PTR, QTYPE, RCODE, RR, DNSRecord

# Addresses that never get a synthetic name (private and loopback networks), as first and last numbers.
_NO_NAMES = [(int(net.network_address), int(net.broadcast_address)) for net in map(
    ipaddress.ip_network, ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8"))]

RECEIVE_BUFFER = 4 << 20     # bytes; Linux allows up to net.core.rmem_max (a smaller one is used as is)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: "PtrServer"):
        self.owner = owner

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        owner = self.owner
        owner.queries += 1
        if owner.silent:
            return
        packet = owner.quick_reply(data)
        if packet is None:
            packet = owner.full_reply(data)
        if packet is None:
            return
        if owner.delay:
            asyncio.get_running_loop().call_later(owner.delay, self.transport.sendto, packet, addr)
        else:
            self.transport.sendto(packet, addr)


class PtrServer:
    def __init__(self, names: dict[str, str] | None = None, *, synthetic: str | None = None,
                 delay: float = 0.0, silent: bool = False, port: int = 0, unanswered=()):
        self.names, self.synthetic, self.unanswered = dict(names or {}), synthetic, set(unanswered)
        self.delay, self.silent, self.queries, self.port = delay, silent, 0, port
        self.asked: Counter = Counter()
        self._ready = threading.Event()

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    @staticmethod
    def address_of(qname: str) -> str | None:
        labels = qname.rstrip(".").split(".")
        if labels[-2:] != ["in-addr", "arpa"] or len(labels) != 6:
            return None
        return ".".join(reversed(labels[:4]))

    def name_for(self, qname: str) -> str | None:
        ip = self.address_of(qname)
        return None if ip is None else self.name_of(ip)

    def name_of(self, ip: str) -> str | None:
        if ip in self.names:
            return self.names[ip]
        if not self.synthetic:
            return None
        number = int(ipaddress.ip_address(ip))
        if any(first <= number <= last for first, last in _NO_NAMES):
            return None
        return f"host-{ip.replace('.', '-')}.{self.synthetic}"

    def full_reply(self, data: bytes) -> bytes | None:
        """The reply dnslib builds for any query (None: no reply)."""
        try:
            request = DNSRecord.parse(data)
        except Exception:  # not a DNS packet: ignore it, as a server would
            return None
        reply = request.reply()
        qname = str(request.q.qname)
        self.asked[self.address_of(qname)] += 1
        if self.address_of(qname) in self.unanswered:
            return None
        name = self.name_for(qname) if request.q.qtype == QTYPE.PTR else None
        if name:
            reply.add_answer(RR(qname, QTYPE.PTR, rdata=PTR(name), ttl=300))
        else:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply.pack()

    def quick_reply(self, data: bytes) -> bytes | None:
        """The same bytes as `full_reply`, built by hand for the common query (one PTR question for a plain
        synthetic address); None for anything else.  dnslib's parse and pack cost the benchmarks' PTR server
        about 120 µs of CPU a query, as much as the resolver that asks, and on two cores that CPU came out of
        the time measured for hzflow's own work."""
        if not self.synthetic or len(data) < 12 or data[4:6] != b"\x00\x01":
            return None
        labels, at = [], 12
        while at < len(data) and data[at] and len(labels) < 7:
            end = at + 1 + data[at]
            labels.append(data[at + 1:end])
            at = end
        question_end = at + 5
        if (len(labels) != 6 or labels[4:] != [b"in-addr", b"arpa"] or question_end > len(data)
                or data[at] or data[at + 1:question_end] != b"\x00\x0c\x00\x01"):
            return None
        octets = [label.decode("ascii", "replace") for label in reversed(labels[:4])]
        if not all(o.isdigit() and o.isascii() and str(int(o)) == o and int(o) < 256 for o in octets):
            return None
        ip = ".".join(octets)
        if ip in self.names or ip in self.unanswered:
            return None
        self.asked[ip] += 1
        name = self.name_of(ip)
        flags = int.from_bytes(data[2:4], "big") | 0x8480      # the query's, as a response, authoritative, recursive
        question = data[12:question_end]
        if name is None:
            return data[:2] + (flags & ~0xF | 3).to_bytes(2, "big") + b"\x00\x01\x00\x00\x00\x00\x00\x00" + question
        rdata = b"".join(len(label).to_bytes(1, "big") + label
                         for label in name.encode().split(b".") if label) + b"\x00"
        return (data[:2] + flags.to_bytes(2, "big") + b"\x00\x01\x00\x01\x00\x00\x00\x00"
                + question + b"\xc0\x0c\x00\x0c\x00\x01\x00\x00\x01\x2c" + len(rdata).to_bytes(2, "big") + rdata)

    def _serve(self):
        self.loop = asyncio.new_event_loop()
        transport, _ = self.loop.run_until_complete(self.loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=("127.0.0.1", self.port)))
        self.port = transport.get_extra_info("sockname")[1]
        # A resolver's burst of queries (200 at once in the benchmarks) must not overflow the socket:
        # with the default buffer a few were dropped at every burst, and c-ares asked them again 0.25 s later.
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        self._ready.set()
        self.loop.run_forever()
        transport.close()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()

    def __enter__(self) -> "PtrServer":
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def _serve_apart(synthetic: str, port, queries, stop) -> None:
    with PtrServer(synthetic=synthetic) as server:
        port.value = server.port
        while not stop.is_set():
            stop.wait(0.2)
            queries.value = server.queries
        queries.value = server.queries


class ApartServer:
    """A synthetic PtrServer in a process of its own, as a resolver on another host: it takes no time
    from the process that asks (benchmarks).  `queries` is refreshed every 0.2 s and when it stops."""

    def __init__(self, synthetic: str):
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._port, self._queries, self._stop = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Event()
        self.process = ctx.Process(target=_serve_apart, args=(synthetic, self._port, self._queries, self._stop),
                                   daemon=True)

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self._port.value}"

    @property
    def queries(self) -> int:
        return self._queries.value

    def cpu_seconds(self) -> float:
        """CPU time the server's process has used so far (user and system)."""
        fields = open(f"/proc/{self.process.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> "ApartServer":
        import time

        self.process.start()
        while not self._port.value:
            if not self.process.is_alive():
                raise RuntimeError("the PTR server's process died at start-up")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.process.join(5)


def main(argv=None) -> int:
    """A PTR server of its own (the demo's --keep leaves one running): until SIGTERM, port in --port-file."""
    import argparse
    import signal
    from pathlib import Path

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--synthetic", default="hosts.example.net", help="domain of the names it makes up")
    ap.add_argument("--port-file", type=Path, required=True)
    a = ap.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with PtrServer(synthetic=a.synthetic) as server:
        a.port_file.write_text(f"{server.port}\n")
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
