"""The benchmarks' PTR server, in a process of its own, takes a resolver's bursts without dropping queries."""

import socket

import pytest

from hzflow.enrich import dns
from hzflow_dev.ptrserver import RECEIVE_BUFFER, ApartServer

BURST = 400        # queries sent at once (the busy-day benchmark asks with 200)


def dropped(port: int) -> int:
    """Datagrams the kernel dropped for the loopback UDP socket on `port` (its receive buffer was full)."""
    for line in open("/proc/net/udp").read().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}":
            return int(fields[-1])
    raise AssertionError(f"no UDP socket on 127.0.0.1:{port}")


def test_bursts_of_queries_are_not_dropped():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:      # what this kernel allows
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        if probe.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < RECEIVE_BUFFER:
            pytest.skip("net.core.rmem_max is below the server's receive buffer")
    addresses = [f"198.51.{n // 250}.{n % 250 + 1}" for n in range(8_000)]
    with ApartServer("burst.example.net") as server:
        resolver = dns.Resolver([server.nameserver], concurrency=BURST, timeout=2.0, tries=4)
        port = int(server.nameserver.rsplit(":", 1)[1])
        try:
            answers = [a for at in range(0, len(addresses), 500) for a in resolver.resolve(addresses[at:at + 500])]
        finally:
            resolver.close()
        drops = dropped(port)
    assert drops == 0
    assert [status for _, status, _ in answers] == ["name"] * len(addresses)
    assert server.queries == len(addresses)


def test_the_quick_reply_is_byte_for_byte_the_one_dnslib_builds():
    from dnslib import EDNS0, DNSRecord

    from hzflow_dev.ptrserver import PtrServer

    server = PtrServer({"198.51.100.9": "named.example.org"}, synthetic="burst.example.net",
                       unanswered={"198.51.100.10"})
    quick = 0
    for n, name in enumerate(["7.100.51.198", "9.100.51.198", "10.100.51.198", "4.3.2.10", "1.0.16.172",
                              "1.0.31.172", "1.0.15.172", "1.0.32.172", "1.1.168.192", "1.1.169.192", "1.0.0.127",
                              "01.2.3.4", "256.2.3.4", "4.3.2", "a.3.2.1", "0.0.0.0", "255.255.255.255"]):
        for qtype in ("PTR", "A"):
            for rd, edns in ((1, True), (0, False)):
                query = DNSRecord.question(f"{name}.in-addr.arpa", qtype)
                query.header.id, query.header.rd = 4_000 + n, rd
                if edns:
                    query.add_ar(EDNS0(udp_len=1232))
                packet = query.pack()
                reply = server.quick_reply(packet)
                assert reply is None or reply == server.full_reply(packet), (name, qtype, rd, edns)
                quick += reply is not None
    assert quick == 11 * 2         # the PTR questions for the eleven canonical addresses in no table
