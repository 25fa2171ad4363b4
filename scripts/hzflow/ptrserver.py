"""A PTR server on loopback for the demo, the tests and the benchmarks (dnslib in a thread).

Answers reverse queries from a fixed table, or with a synthetic name
`host-a-b-c-d.<domain>` for any address when `synthetic` is set; everything
else is NXDOMAIN.  `delay` holds every answer back (a slow resolver);
`silent` answers nothing at all (a resolver that times out).  `queries`
counts what it was asked.
"""

from __future__ import annotations

import ipaddress
import threading
import time

from dnslib import PTR, QTYPE, RCODE, RR
from dnslib.server import BaseResolver, DNSLogger, DNSServer


# Addresses that never get a synthetic name (private and loopback networks).
_NO_NAMES = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                               "127.0.0.0/8")]


class _Answers(BaseResolver):
    def __init__(self, owner: "PtrServer"):
        self.owner = owner

    def resolve(self, request, handler):
        owner = self.owner
        with owner.lock:
            owner.queries += 1
        if owner.silent:
            time.sleep(60)
        if owner.delay:
            time.sleep(owner.delay)
        reply = request.reply()
        qname = str(request.q.qname)
        name = owner.name_for(qname) if request.q.qtype == QTYPE.PTR else None
        if name:
            reply.add_answer(RR(qname, QTYPE.PTR, rdata=PTR(name), ttl=300))
        else:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


class PtrServer:
    def __init__(self, names: dict[str, str] | None = None, *, synthetic: str | None = None,
                 delay: float = 0.0, silent: bool = False, port: int = 0):
        self.names, self.synthetic = dict(names or {}), synthetic
        self.delay, self.silent, self.queries = delay, silent, 0
        self.lock = threading.Lock()
        self.server = DNSServer(_Answers(self), address="127.0.0.1", port=port,
                                logger=DNSLogger(logf=lambda _line: None))
        self.port = self.server.server.server_address[1]

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def name_for(self, qname: str) -> str | None:
        labels = qname.rstrip(".").split(".")
        if labels[-2:] != ["in-addr", "arpa"] or len(labels) != 6:
            return None
        ip = ".".join(reversed(labels[:4]))
        if ip in self.names:
            return self.names[ip]
        if self.synthetic and not any(ipaddress.ip_address(ip) in net for net in _NO_NAMES):
            return f"host-{ip.replace('.', '-')}.{self.synthetic}"
        return None

    def __enter__(self) -> "PtrServer":
        self.server.start_thread()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()
