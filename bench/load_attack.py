"""Many visitors at once, with and without one of them attacking: latency, errors and the app's memory.

    python -m bench.load_attack [--users 20] [--seconds 60] [--settle-s 60] [--rounds 2]

The app runs in its own process as on a Space (``SPACE_ID``; one proxy in front, so visitors are told
apart by the ``X-Forwarded-For`` it sets: each client here sends its own) with a configured server
that is slow (it answers 500 after ``--slow-s`` seconds). Each ordinary visitor loops for ``--seconds``
through gradio_client: load the page, upload a photo and ask ``/geometry`` for it, then ``/parse`` a
model output for it. Run A: ``--users`` ordinary visitors. Run B: one of them is replaced by an
attacker who loops, from four threads at once, over

- imports through the Queue, sent as the page sends them (upload, then the page's own event): a
  164 KB PNG declaring 13000 x 13000 pixels, a 1 MB zip holding a 1 GB ``a.png``, a zip holding the
  13000 x 13000 PNG;
- the API attacks of the security tests (server paths, ``/dev/zero``, the pixel bomb, a URL of their
  own, ``max_new_tokens=10**12``, ``min_pixels=5e7``, wrong types, a local folder as model, requests
  to the slow configured server).

The runs go A B B A (``--rounds 2``; 1: A B), so a load that drifts over the benchmark weighs on both kinds
alike; the latencies of each kind are pooled. Reported: errors and p50/p95 latency of the ordinary
visitors (page loads apart), and the app process's resident memory (``VmRSS``) at the start (after a short warm-up run of each kind, so that
code loaded and caches filled on first use count as the start; the cold figure is kept too), its peak,
and ``--settle-s`` seconds after the last run. Goals (issue 20): others' p95 with the attacker at most 1.5 times the p95 without, no errors,
an RSS peak of at most 1.5 GB, and RSS back within 200 MB of the start a minute after.

The figures depend on what else the machine runs: the record keeps the load average before and after.
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
import uuid
import zipfile
from pathlib import Path

from bench._record import Goal, Row, write_record
from tests.factories import write_black_png, write_image
from tests.ui.conftest import free_port

REPO = Path(__file__).resolve().parents[1]
OUTPUT = '[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]'
MB = 1 << 20


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
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("the app did not start")


class Memory:
    """The app process's resident memory, sampled every ``every_s`` (``/proc/PID/status``, VmRSS)."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        self.pid, self.every_s = pid, every_s
        self.peak = 0
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def now(self) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def reset_peak(self) -> None:
        self.peak = self.now()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.peak = max(self.peak, self.now())
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()


def raw_call(url: str, api_name: str, data: list, headers: dict[str, str], timeout: float = 300) -> str:
    """``/gradio_api/call`` with a raw JSON payload (what a script can send without gradio_client's help)."""
    request = urllib.request.Request(url + f"gradio_api/call/{api_name}", data=json.dumps({"data": data}).encode(),
                                     headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(urllib.request.Request(url + f"gradio_api/call/{api_name}/{event_id}",
                                                       headers=headers), timeout=timeout) as response:
        text = response.read().decode()
    return "error" if "event: error" in text else "complete"


def upload(url: str, path: Path, headers: dict[str, str]) -> dict:
    boundary = "----bench-load"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path.name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url + "gradio_api/upload", data=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", **headers})
    with urllib.request.urlopen(request, timeout=60) as response:
        server_path = json.load(response)[0]
    return {"path": server_path, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def import_event(url: str) -> int:
    """The id of the Queue's import event (the upload of the ``import-files`` box), from the page's config."""
    with urllib.request.urlopen(url + "config", timeout=30) as response:
        config = json.load(response)
    box = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "import-files")
    return next(d["id"] for d in config["dependencies"] if [box, "upload"] in d.get("targets", []))


def page_import(url: str, fn_index: int, path: Path, headers: dict[str, str]) -> str:
    """Import a file through the Queue as the page does: upload it, join the queue with the import event,
    read the page's event stream until the import has answered; returns the notice's text."""
    file = upload(url, path, headers)
    session = uuid.uuid4().hex
    join = urllib.request.Request(url + "gradio_api/queue/join", data=json.dumps({
        "data": [None, [file]], "fn_index": fn_index, "session_hash": session, "event_data": None}).encode(),
        headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(join, timeout=30):
        pass
    stream = urllib.request.Request(url + f"gradio_api/queue/data?session_hash={session}", headers=headers)
    with urllib.request.urlopen(stream, timeout=300) as response:
        for raw in response:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                return json.dumps(message.get("output"))[:2000]
    return ""


def visitor(url: str, photo: Path, number: int, until: float, latencies: dict[str, list[float]],
            errors: list[str]) -> None:
    from gradio_client import Client, handle_file

    headers = {"X-Forwarded-For": f"10.0.1.{number}"}
    client = Client(url, verbose=False, headers=headers, httpx_kwargs={"timeout": 300})  # a page waits as long
    while time.monotonic() < until:
        try:
            t0 = time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=300) as page:
                page.read()
            latencies["page"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            geometry = client.predict([handle_file(str(photo))], "qwen2.5-vl", 0, 0, api_name="/geometry")
            latencies["api"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            parsed = client.predict(OUTPUT, "qwen2.5-vl", [geometry[0]["original"]], 0, 0, api_name="/parse")
            latencies["api"].append(time.perf_counter() - t0)
            if not parsed["detections"]:
                errors.append("parse found nothing")
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")


def zip_bomb(path: Path, size: int) -> Path:
    """A small zip whose ``a.png`` declares and holds ``size`` zero bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf, \
            zf.open("a.png", "w", force_zip64=True) as member:
        block = bytes(16 * MB)
        for _ in range(size // len(block)):
            member.write(block)
    return path


def attack_files(folder: Path) -> dict[str, Path]:
    """The attacker's files, made before the runs (a 1 GB zip bomb takes a while to deflate)."""
    bomb = write_black_png(folder / "black.png", 13000, 13000)
    pixels_zip = folder / "pixels.zip"
    with zipfile.ZipFile(pixels_zip, "w", zipfile.ZIP_STORED) as zf:
        zf.write(bomb, "black.png")
    return {"bomb": bomb, "small": write_image(folder, 64, 48, name="small.png"),
            "secret": write_image(folder, 1234, 567, name="secret.png"),
            "bomb_zip": zip_bomb(folder / "bomb.zip", 1024 * MB), "pixels_zip": pixels_zip}


def attacker(url: str, folder: Path, files: dict[str, Path], until: float, sent: list[str], accepted: list[str],
             said: list[str]) -> None:
    from gradio_client import Client, handle_file

    headers = {"X-Forwarded-For": "10.0.0.66"}
    client = Client(url, verbose=False, headers=headers, httpx_kwargs={"timeout": 300})
    bomb, small, secret, bomb_zip, pixels_zip = (files[k] for k in ("bomb", "small", "secret", "bomb_zip",
                                                                     "pixels_zip"))
    fn_index = import_event(url)

    def ground(images, **kw):
        return [images, "Locate the cat.", kw.get("backend", "local"), kw.get("model", ""), kw.get("base_url", ""),
                "", [], kw.get("min_pixels", 0), 0, kw.get("tokens", 8)]

    def imported(path: Path) -> str:
        notice = page_import(url, fn_index, path, headers)
        said.append(notice)
        return "complete" if "Added 1" in notice else "error"

    attacks = {
        "import-pixel-bomb": lambda: imported(bomb),
        "import-zip-bomb": lambda: imported(bomb_zip),
        "import-zip-of-pixel-bomb": lambda: imported(pixels_zip),
        "dev-zero": lambda: raw_call(url, "ground", ground(["/dev/zero"]), headers),
        "server-path": lambda: raw_call(url, "geometry", [[str(secret)], "qwen2.5-vl", 0, 0], headers),
        "file-data-outside": lambda: raw_call(url, "geometry", [[{"path": str(secret), "meta": {
            "_type": "gradio.FileData"}}], "qwen2.5-vl", 0, 0], headers),
        "pixel-bomb": lambda: client.predict([handle_file(str(bomb))], "Find.", "local", "", "", "", [], 0, 0, 8,
                                             api_name="/ground"),
        "own-server": lambda: client.predict([handle_file(str(small))], "Find.", "openai", "", "http://127.0.0.1:9/v1",
                                             "", [], 0, 0, 8, api_name="/ground"),
        "tokens": lambda: client.predict([handle_file(str(small))], "Find.", "local", "", "", "", [], 0, 0, 10**12,
                                         api_name="/ground"),
        "min-pixels": lambda: client.predict([handle_file(str(small))], "Find.", "local", "", "", "", [], 50_000_000, 0,
                                             8, api_name="/ground"),
        "wrong-types": lambda: raw_call(url, "parse", [5, {"a": 1}, "640x480", "x", None], headers),
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

    # the imports in one thread, the slow server in another, everything else from two more: one visitor
    imports = [name for name in attacks if name.startswith("import-")]
    quick = [name for name in attacks if name not in imports and name != "slow-server"]
    threads = [threading.Thread(target=loop, args=(imports,)), threading.Thread(target=loop, args=(["slow-server"],))]
    threads += [threading.Thread(target=loop, args=(quick[k:] + quick[:k],)) for k in (0, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan")


def run(url: str, photo: Path, folder: Path, users: int, seconds: float, memory: Memory,
        attack: dict[str, Path] | None = None) -> dict:
    until = time.monotonic() + seconds
    latencies: dict[str, list[float]] = {"api": [], "page": []}
    errors: list[str] = []
    sent: list[str] = []
    accepted: list[str] = []
    said: list[str] = []
    memory.reset_peak()
    threads = [threading.Thread(target=visitor, args=(url, photo, n, until, latencies, errors))
               for n in range(users - (1 if attack else 0))]
    if attack:
        threads.append(threading.Thread(target=attacker, args=(url, folder, attack, until, sent, accepted, said)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    api = latencies["api"]
    return {"latencies": latencies, "calls": len(api), "page_loads": len(latencies["page"]), "errors": len(errors),
            "error_examples": errors[:5], "p50_s": round(statistics.median(api), 3) if api else None,
            "p95_s": round(p95(api), 3), "page_p95_s": round(p95(latencies["page"]), 3),
            "rss_peak_mb": round(memory.peak / MB, 1), "attacks_sent": len(sent), "attacks_accepted": accepted,
            "import_answers": sorted({s[:300] for s in said})[:6]}


def pooled(outcomes: list[dict]) -> dict:
    """Runs of one kind as one: their latencies together, their errors and attacks added, the highest peak."""
    api = [t for o in outcomes for t in o["latencies"]["api"]]
    page = [t for o in outcomes for t in o["latencies"]["page"]]
    return {"runs": len(outcomes), "calls": len(api), "page_loads": len(page),
            "errors": sum(o["errors"] for o in outcomes),
            "error_examples": [e for o in outcomes for e in o["error_examples"]][:5],
            "p50_s": round(statistics.median(api), 3) if api else None, "p95_s": round(p95(api), 3),
            "page_p95_s": round(p95(page), 3), "per_run_p95_s": [o["p95_s"] for o in outcomes],
            "rss_peak_mb": max(o["rss_peak_mb"] for o in outcomes),
            "attacks_sent": sum(o["attacks_sent"] for o in outcomes),
            "attacks_accepted": [a for o in outcomes for a in o["attacks_accepted"]],
            "import_answers": sorted({a for o in outcomes for a in o["import_answers"]})[:6]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--slow-s", type=float, default=30.0)
    parser.add_argument("--settle-s", type=float, default=60.0, help="wait after the last run before the last RSS reading")
    parser.add_argument("--rounds", type=int, default=2, help="1: A then B; 2: A B B A (latencies of each kind pooled)")
    parser.add_argument("--app-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for the app's process (e.g. PYTHONMALLOC=malloc); repeatable")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    photo = write_image(folder, 640, 480, fmt="JPEG", name="photo.jpg")
    files = attack_files(folder)
    slow = SlowServer(args.slow_s)
    load_before = os.getloadavg()
    process, url = start_app(folder, {"SPACE_ID": "bench/workbench", "WORKBENCH_MODEL": "Qwen/Qwen2.5-VL-3B-Instruct",
                                      "WORKBENCH_BASE_URL": f"http://127.0.0.1:{slow.server_address[1]}/v1",
                                      "WORKBENCH_PROXY_HOPS": "1",
                                      **dict(item.split("=", 1) for item in args.app_env)})
    memory = Memory(process.pid)
    try:
        with urllib.request.urlopen(url, timeout=60):
            pass
        time.sleep(2)
        cold_rss = memory.now()
        # warm-up: one short run of each kind, so that code loaded and caches filled on first use (the
        # parser, zip reading, the page's import event...) are part of the start, not of the growth
        run(url, photo, folder, 2, 5.0, memory)
        run(url, photo, folder, 2, 5.0, memory, attack=files)
        time.sleep(max(5.0, args.settle_s / 2))
        start_rss = memory.now()
        runs: dict[str, list[dict]] = {"A": [], "B": []}
        for kind in "AB" + "BA" * (args.rounds - 1):  # A B B A: a load that drifts weighs on both alike
            outcome = run(url, photo, folder, args.users, args.seconds, memory, attack=files if kind == "B" else None)
            runs[kind].append(outcome)
            print(f"{kind}, {args.users - (kind == 'B')} visitors{' + 1 attacker' if kind == 'B' else ''}: "
                  f"{ {k: v for k, v in outcome.items() if k not in ('latencies', 'import_answers')} }", flush=True)
        quiet, attacked = pooled(runs["A"]), pooled(runs["B"])
        time.sleep(args.settle_s)
        settled_rss = memory.now()
    finally:
        memory.stop()
        process.terminate()
        process.wait(timeout=30)
    load_after = os.getloadavg()
    ratio = attacked["p95_s"] / quiet["p95_s"]
    page_ratio = attacked["page_p95_s"] / quiet["page_p95_s"]
    peak_mb = max(quiet["rss_peak_mb"], attacked["rss_peak_mb"])
    start_mb, settled_mb = round(start_rss / MB, 1), round(settled_rss / MB, 1)
    print(f"p95 with the attacker / without: API {ratio:.2f}, page {page_ratio:.2f} (errors: A {quiet['errors']}, "
          f"B {attacked['errors']}; attacks sent {attacked['attacks_sent']}, accepted {attacked['attacks_accepted']}; "
          f"slow server requests {slow.connections}); RSS start {start_mb} MB, peak {peak_mb} MB, "
          f"{args.settle_s:g} s after {settled_mb} MB; load average {load_before[0]:.1f} -> {load_after[0]:.1f}")
    load = f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (a shared machine)"
    rows = [
        Row(f"load: others' API p95 with an attacker ({args.users} visitors, {args.seconds:g} s)", ours=attacked["p95_s"], peer=quiet["p95_s"],
            units="s", goal=Goal.ratio_at_most(1.5), notes=f"peer: the same run without the attacker; {load}"),
        Row("load: others' page-load p95 with an attacker", ours=attacked["page_p95_s"], peer=quiet["page_p95_s"],
            units="s", goal=Goal.ratio_at_most(1.5), notes="peer: the same run without the attacker"),
        Row("load: errors seen by the other visitors (all runs)", ours=float(quiet["errors"] + attacked["errors"]),
            units="errors", goal=Goal.ours_at_most(0)),
        Row("load: attacks accepted", ours=float(len(attacked["attacks_accepted"])), units="attacks",
            goal=Goal.ours_at_most(0), notes=f"{attacked['attacks_sent']} sent"),
        Row("load: app RSS peak (all runs)", ours=peak_mb, units="MB", goal=Goal.ours_at_most(1536),
            notes=f"start {start_mb} MB after a warm-up; {round(cold_rss / MB, 1)} MB cold"),
        Row(f"load: app RSS {args.settle_s:g} s after the attack, above its start", ours=round(settled_mb - start_mb, 1),
            units="MB", goal=Goal.ours_at_most(200),
            notes=f"start {start_mb} MB (after a warm-up run of each kind), after {settled_mb} MB"),
    ]
    path = write_record("load_attack", {"users": args.users, "seconds": args.seconds, "rounds": args.rounds,
                                        "app_env": args.app_env,
                                        "slow_server_s": args.slow_s,
                                        "settle_s": args.settle_s, "without_attacker": quiet, "with_attacker": attacked,
                                        "p95_ratio": round(ratio, 2), "page_p95_ratio": round(page_ratio, 2),
                                        "rss_cold_mb": round(cold_rss / MB, 1), "rss_start_mb": start_mb, "rss_peak_mb": peak_mb,
                                        "rss_settled_mb": settled_mb,
                                        "load_average": [load_before, load_after],
                                        "slow_server_requests": slow.connections},
                        ("gradio", "gradio_client"), rows=rows)
    print(f"record: {path}")


if __name__ == "__main__":
    main()
