"""Many visitors at once, with and without one of them attacking, through gradio_client.

    python -m bench.load_attack [--users 20] [--seconds 60]

The app runs in its own process as on a Space (``SPACE_ID`` set) with a configured server that
is slow (it answers 500 after ``--slow-s`` seconds). Each ordinary visitor loops for
``--seconds``: upload a photo and ask ``/geometry`` for it, then ``/parse`` a model output for
it. Run A: ``--users`` ordinary visitors. Run B: one of them is replaced by an attacker who
loops, from four threads at once, over the attacks of the security tests (server paths, ``/dev/zero``, a 169 MP PNG bomb, a
URL of their own, ``max_new_tokens=10**12``, ``min_pixels=5e7``, wrong types, a local folder as
model, and requests to the slow configured server). Reported: errors and p50/p95 latency of
the ordinary visitors in each run, and p95(B) / p95(A) (the issue asks for at most 2).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench._record import write_record
from tests.factories import write_black_png, write_image
from tests.ui.conftest import free_port

REPO = Path(__file__).resolve().parents[1]
OUTPUT = '[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]'


class SlowServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.connections = 0
        super().__init__(("127.0.0.1", 0), _SlowHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.server.connections += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(self.server.delay_s)
        body = b'{"error": {"message": "overloaded"}}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def start_app(folder: Path, env_extra: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = os.environ | {"WORKBENCH_DATA_DIR": str(folder / "data"), "GRADIO_TEMP_DIR": str(folder / "gradio"),
                        "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
                        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]), **env_extra}
    process = subprocess.Popen([sys.executable, "-c", "from ui.launch import launch; launch()"], cwd=REPO, env=env,
                               stdout=(folder / "app.log").open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("the app did not start")


def raw_call(url: str, api_name: str, data: list, timeout: float = 300) -> str:
    """``/gradio_api/call`` with a raw JSON payload (what a script can send without gradio_client's help)."""
    request = urllib.request.Request(url + f"gradio_api/call/{api_name}", data=json.dumps({"data": data}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(url + f"gradio_api/call/{api_name}/{event_id}", timeout=timeout) as response:
        text = response.read().decode()
    return "error" if "event: error" in text else "complete"


def visitor(url: str, photo: Path, until: float, latencies: list[float], errors: list[str]) -> None:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    while time.monotonic() < until:
        try:
            t0 = time.perf_counter()
            geometry = client.predict([handle_file(str(photo))], "qwen2.5-vl", 0, 0, api_name="/geometry")
            latencies.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            parsed = client.predict(OUTPUT, "qwen2.5-vl", [geometry[0]["original"]], 0, 0, api_name="/parse")
            latencies.append(time.perf_counter() - t0)
            if not parsed["detections"]:
                errors.append("parse found nothing")
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")


def attacker(url: str, folder: Path, until: float, sent: list[str], accepted: list[str], sink: SlowServer) -> None:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    bomb = write_black_png(folder / "black.png", 13000, 13000)
    small = write_image(folder, 64, 48, name="small.png")
    secret = write_image(folder, 1234, 567, name="secret.png")

    def ground(images, **kw):
        return [images, "Locate the cat.", kw.get("backend", "local"), kw.get("model", ""), kw.get("base_url", ""),
                "", [], kw.get("min_pixels", 0), 0, kw.get("tokens", 8)]

    attacks = {
        "dev-zero": lambda: raw_call(url, "ground", ground(["/dev/zero"])),
        "server-path": lambda: raw_call(url, "geometry", [[str(secret)], "qwen2.5-vl", 0, 0]),
        "file-data-outside": lambda: raw_call(url, "geometry", [[{"path": str(secret), "meta": {
            "_type": "gradio.FileData"}}], "qwen2.5-vl", 0, 0]),
        "pixel-bomb": lambda: client.predict([handle_file(str(bomb))], "Find.", "local", "", "", "", [], 0, 0, 8,
                                             api_name="/ground"),
        "own-server": lambda: client.predict([handle_file(str(small))], "Find.", "openai", "", "http://127.0.0.1:9/v1",
                                             "", [], 0, 0, 8, api_name="/ground"),
        "tokens": lambda: client.predict([handle_file(str(small))], "Find.", "local", "", "", "", [], 0, 0, 10**12,
                                         api_name="/ground"),
        "min-pixels": lambda: client.predict([handle_file(str(small))], "Find.", "local", "", "", "", [], 50_000_000, 0,
                                             8, api_name="/ground"),
        "wrong-types": lambda: raw_call(url, "parse", [5, {"a": 1}, "640x480", "x", None]),
        "local-folder": lambda: client.predict([handle_file(str(small))], "Find.", "local", str(folder), "", "", [], 0,
                                               0, 8, api_name="/ground"),
        "slow-server": lambda: client.predict([handle_file(str(small))], "Find.", "openai", "", "", "", [], 0, 0, 8,
                                              api_name="/ground"),
    }
    def loop(names: list[str]) -> None:
        while time.monotonic() < until:
            for name in names:
                if time.monotonic() >= until:
                    break
                sent.append(name)
                try:
                    outcome = attacks[name]()
                    if outcome != "error":
                        accepted.append(name)
                except Exception:
                    pass

    # the slow server in one thread, everything else from three more, all as one visitor (one client)
    quick = [name for name in attacks if name != "slow-server"]
    threads = [threading.Thread(target=loop, args=(["slow-server"],))]
    threads += [threading.Thread(target=loop, args=(quick[k:] + quick[:k],)) for k in range(0, 9, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run(url: str, photo: Path, folder: Path, users: int, seconds: float, attack: bool, sink: SlowServer) -> dict:
    until = time.monotonic() + seconds
    latencies: list[float] = []
    errors: list[str] = []
    sent: list[str] = []
    accepted: list[str] = []
    threads = [threading.Thread(target=visitor, args=(url, photo, until, latencies, errors))
               for _ in range(users - (1 if attack else 0))]
    if attack:
        threads.append(threading.Thread(target=attacker, args=(url, folder, until, sent, accepted, sink)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan")
    return {"calls": len(latencies), "errors": len(errors), "error_examples": errors[:5],
            "p50_s": round(statistics.median(ordered), 3) if ordered else None, "p95_s": round(p95, 3),
            "attacks_sent": len(sent), "attacks_accepted": accepted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--slow-s", type=float, default=30.0)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    photo = write_image(folder, 640, 480, fmt="JPEG", name="photo.jpg")
    slow = SlowServer(args.slow_s)
    process, url = start_app(folder, {"SPACE_ID": "bench/workbench", "WORKBENCH_MODEL": "Qwen/Qwen2.5-VL-3B-Instruct",
                                      "WORKBENCH_BASE_URL": f"http://127.0.0.1:{slow.server_address[1]}/v1"})
    try:
        quiet = run(url, photo, folder, args.users, args.seconds, attack=False, sink=slow)
        print(f"A, {args.users} visitors: {quiet}", flush=True)
        attacked = run(url, photo, folder, args.users, args.seconds, attack=True, sink=slow)
        print(f"B, {args.users - 1} visitors + 1 attacker: {attacked}", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=30)
    ratio = attacked["p95_s"] / quiet["p95_s"]
    print(f"p95 with the attacker / without: {ratio:.2f} (errors: A {quiet['errors']}, B {attacked['errors']}; "
          f"attacks sent {attacked['attacks_sent']}, accepted {attacked['attacks_accepted']}; "
          f"slow server requests {slow.connections})")
    path = write_record("load_attack", {"users": args.users, "seconds": args.seconds, "slow_server_s": args.slow_s,
                                        "without_attacker": quiet, "with_attacker": attacked,
                                        "p95_ratio": round(ratio, 2), "slow_server_requests": slow.connections},
                        ("gradio", "gradio_client"))
    print(f"record: {path}")


if __name__ == "__main__":
    main()
