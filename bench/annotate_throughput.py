"""Batch client throughput against a loopback ``transformers serve``, vs the server's own capacity.

For each concurrency (1, 2, 4, 8) the same items go through:

- ``ours``: :func:`workbench.batch.run_batch` with a :class:`workbench.batch.ReplicaPool` of one
  server and a :class:`workbench.batch.JsonlSink` (images read and encoded, one request per item,
  parsing, one fsynced line per item: what ``workbench annotate-files`` does);
- ``peer``: a minimal raw HTTP client (``http.client``, one thread per slot) firing the very
  same request bodies, prepared beforehand, and reading the answers: what the server can serve
  at that concurrency;
- ``encoding_peer`` (for reference, not the goal): the same raw client reading and base64-encoding
  each image file when it sends it, the least work any client must do.

Each round runs both back to back (alternating which goes first); the ratio is the median of the
rounds' ratios, so load from other processes on the machine affects both sides of a pair alike.
Goal: ours >= 0.9 x peer at every level. The server runs with one torch thread by default, so on a small machine client
and server do not fight over one core (as they do not when the server has its own GPU). Also
the client's CPU time per item (``time.process_time`` of this process; the
server runs in its own). Writes ``bench/results/annotate_throughput.json``.

    python -m bench.annotate_throughput --items 24 --rounds 3 --max-new-tokens 16
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from bench._record import Goal, Row, write_record

GOAL = 0.9


def peer_run(url: str, bodies: list, concurrency: int) -> tuple[float, float]:
    """Fire ``bodies`` (bytes, or callables making them) at ``url`` with ``concurrency`` connections;
    (items/s, CPU s per item)."""
    target = urlparse(url)
    path = target.path.rstrip("/") + "/chat/completions"
    queue = list(reversed(bodies))
    lock = threading.Lock()

    def slot() -> None:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            if callable(body):
                body = body()
            connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"peer request answered {response.status}")
        connection.close()

    cpu, wall = time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=slot) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(bodies) / wall, cpu / len(bodies)


def ours_run(units, pool, settings, concurrency: int, folder: Path) -> tuple[float, float]:
    from workbench.batch import JsonlSink, run_batch

    out = folder / f"run-{time.monotonic_ns()}.jsonl"
    cpu, wall = time.process_time(), time.perf_counter()
    with JsonlSink(out) as sink:
        summary = run_batch(units, pool, sink, settings, concurrency=concurrency)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if summary.written != len(units):
        raise RuntimeError(f"ours wrote {summary.written} of {len(units)}: {summary.lines()}")
    return len(units) / wall, cpu / len(units)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--levels", default="1,2,4,8")
    parser.add_argument("--server-threads", type=int, default=1,
                        help="torch threads of the server (1: the client and the server do not share a core)")
    args = parser.parse_args()

    from grounding import PixelLimits
    from tests.factories import write_image
    from tests.tiny_model import build_tiny_qwen2_5_vl
    from tests.workbench.batch.serve import TransformersServe
    from workbench.batch import JobSettings, ReplicaPool, WorkUnit

    load_before = list(os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="bench-annotate-"))
    model = build_tiny_qwen2_5_vl(work / "tiny-qwen2.5-vl")
    limits = PixelLimits(3136, 256 * 28 * 28)
    threads = str(args.server_threads)
    server = TransformersServe(model, work / "serve", limits=limits,
                               env={"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}).start().wait_healthy()
    try:
        images = [write_image(work, 320 + 8 * (n % 5), 240 + 8 * (n % 3), seed=n, name=f"img{n:03d}.png")
                  for n in range(args.items)]
        prompt = "Locate every cat in the image and output the bbox coordinates in JSON format."
        units = [WorkUnit(p.name, (p,), prompt=prompt) for p in images]
        pool = ReplicaPool.from_urls([server.url], model=str(model), family="qwen2.5-vl", limits=limits,
                                     limits_style="transformers", timeout=120)
        settings = JobSettings.for_backend(pool, max_new_tokens=args.max_new_tokens)
        replica = pool.replicas[0].backend
        bodies = [json.dumps(replica.body(u.request(settings))).encode() for u in units]

        def encoding(unit, body: bytes):
            template = json.loads(body)
            part = next(p for p in template["messages"][0]["content"] if p["type"] == "image_url")

            def make() -> bytes:
                data = base64.b64encode(Path(unit.images[0]).read_bytes()).decode("ascii")
                part["image_url"]["url"] = "data:image/png;base64," + data
                return json.dumps(template).encode()
            return make

        encoded = [encoding(u, b) for u, b in zip(units, bodies)]
        peer_run(server.url, bodies[:4], 2)  # warm-up: the server's first requests are slower
        ours_run(units[:4], pool, settings, 2, work)

        levels = []
        for concurrency in (int(c) for c in args.levels.split(",")):
            ours, peer, ours_cpu, peer_cpu, encoding_peer = [], [], [], [], []
            for round_number in range(args.rounds):
                sides = ["peer", "ours"] if round_number % 2 == 0 else ["ours", "peer"]
                for side in sides:  # back to back, alternating who goes first: both see the same load
                    if side == "peer":
                        rate, cpu = peer_run(server.url, bodies, concurrency)
                        peer.append(rate)
                        peer_cpu.append(cpu)
                    else:
                        rate, cpu = ours_run(units, pool, settings, concurrency, work)
                        ours.append(rate)
                        ours_cpu.append(cpu)
                encoding_peer.append(peer_run(server.url, encoded, concurrency)[0])
            row = {
                "concurrency": concurrency,
                "ours": round(statistics.median(ours), 2),
                "peer": round(statistics.median(peer), 2),
                "unit": "items/s",
                "ours_rounds": [round(v, 2) for v in ours],
                "peer_rounds": [round(v, 2) for v in peer],
                "encoding_peer": round(statistics.median(encoding_peer), 2),
                "ours_cpu_ms_per_item": round(1000 * statistics.median(ours_cpu), 2),
                "peer_cpu_ms_per_item": round(1000 * statistics.median(peer_cpu), 2),
            }
            # the median of the per-round ratios: each round's two runs saw the same machine load
            row["ratio"] = round(statistics.median(o / p for o, p in zip(ours, peer)), 3)
            row["goal"] = GOAL
            row["pass"] = row["ratio"] >= GOAL
            levels.append(row)
            print(f"concurrency {concurrency}: ours {row['ours']:6.2f} items/s, peer {row['peer']:6.2f} items/s, "
                  f"ratio {row['ratio']:.3f} ({'pass' if row['pass'] else 'FAIL'}), encoding peer "
                  f"{row['encoding_peer']:6.2f} items/s, client CPU "
                  f"{row['ours_cpu_ms_per_item']:.1f} ms/item (peer {row['peer_cpu_ms_per_item']:.1f})")
    finally:
        server.stop()
    path = write_record("annotate_throughput", {
        "items": args.items, "rounds": args.rounds, "max_new_tokens": args.max_new_tokens,
        "server": f"transformers serve --device cpu, tiny Qwen2.5-VL, loopback, {args.server_threads} torch thread(s)",
        "load_average_before_after": [load_before, list(os.getloadavg())],
        "levels": levels, "goal": GOAL, "pass": all(row["pass"] for row in levels),
    }, packages=("transformers", "torch", "openai", "httpx"), rows=[
        Row(f"batch client at concurrency {row['concurrency']} (transformers serve, tiny model)", ours=row["ours"],
            peer=row["peer"], units="items/s", goal=Goal.ratio_at_least(GOAL),
            notes=f"peer: raw HTTP client with prepared bodies; median of {args.rounds} rounds; median of the "
                  f"rounds' ratios {row['ratio']:.3f}; client CPU {row['ours_cpu_ms_per_item']:.1f} ms/item "
                  f"(peer {row['peer_cpu_ms_per_item']:.1f})")
        for row in levels])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
