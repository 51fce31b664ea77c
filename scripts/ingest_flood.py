#!/usr/bin/env python3
"""Floods keeld's ingest with one kind of body and measures /health/live.

    scripts/ingest_flood.py PORT KIND [RATE] [CONNECTIONS]

KIND: zeros   1 MiB of tiny values, [0,0,...]
      members one event whose details object has 90 000 members
      nested  99 arrays of 999 zeros (the costliest body within the limits)
      events  1000 ordinary events (a legitimate 170 KB batch)
RATE is requests a second over all CONNECTIONS (default 60 over 3). Prints
the answers' status codes and /health/live latency (median, p99, max) over
600 probes 10 ms apart. keeld needs server.max_body_bytes >= 1 MiB.
"""
import socket
import statistics
import sys
import threading
import time


def body(kind):
    if kind == "zeros":
        return "[" + ",".join(["0"] * (1024 * 1024 // 2 - 100)) + "]"
    if kind == "members":
        inner = ",".join('"k%d":0' % i for i in range(90000))
        return '[{"service":"s","code":"TIMEOUT","message":"m","details":{' + inner + "}}]"
    if kind == "nested":
        return "[" + ",".join(["[" + ",".join(["0"] * 999) + "]"] * 99) + "]"
    if kind == "events":
        ev = ('{"service":"checkout","code":"TIMEOUT","message":"call %d timed out",'
              '"details":{"attempt":3,"host":"db-1","pool":"primary","elapsed_ms":1532}}')
        return "[" + ",".join(ev % i for i in range(1000)) + "]"
    sys.exit("unknown kind " + kind)


def read_reply(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        rest += s.recv(65536)
    return head


def main():
    port, kind = int(sys.argv[1]), sys.argv[2]
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 60
    connections = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    payload = body(kind).encode()
    request = (b"POST /api/v1/events HTTP/1.1\r\nHost: keeld\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(payload)) + payload
    stop = threading.Event()
    codes, lock = {}, threading.Lock()

    def poster():
        s = socket.create_connection(("127.0.0.1", port))
        next_at = time.time()
        while not stop.is_set():
            try:
                s.sendall(request)
                head = read_reply(s)
                with lock:
                    codes[head[9:12].decode()] = codes.get(head[9:12].decode(), 0) + 1
                if b"onnection: close" in head:
                    s.close()
                    s = socket.create_connection(("127.0.0.1", port))
            except OSError:
                s = socket.create_connection(("127.0.0.1", port))
            next_at += connections / rate
            stop.wait(max(0.0, next_at - time.time()))

    threads = [threading.Thread(target=poster) for _ in range(connections)]
    for t in threads:
        t.start()
    time.sleep(1)
    probe = socket.create_connection(("127.0.0.1", port))
    latencies = []
    for _ in range(600):
        start = time.perf_counter()
        probe.sendall(b"GET /health/live HTTP/1.1\r\nHost: keeld\r\n\r\n")
        read_reply(probe)
        latencies.append((time.perf_counter() - start) * 1000)
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join()
    latencies.sort()
    print("body %d bytes, answers %s, /health/live ms median %.2f p99 %.2f max %.2f" %
          (len(payload), codes, statistics.median(latencies),
           latencies[int(len(latencies) * 0.99)], latencies[-1]))


if __name__ == "__main__":
    main()
