"""Load on the service: 50 concurrent matching coordinators asking for suggestions.

Starts ``capaciteit serve`` (one uvicorn process, SQLite in a temporary folder), uploads a
synthetic pool (1,000 children, 5,000 families), then runs 50 concurrent clients over HTTP
(threads, one keep-alive connection each) for ``--seconds``; each asks for the top 5
families of a random child, waits for the answer and pauses about ``--think`` seconds (a
coordinator reading the answer; uniform between half and one and a half times) before the
next. The clients run on the same 2 cores as the server, so the figures are upper bounds.
Prints p50/p95/p99 latency, throughput and errors; with ``--think 0`` the clients send
back to back and the figure is the saturated throughput. Target (issue): p95 <= 50 ms on
2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from capaciteit.matching import synthetic_pool


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(
    port: int, token: str, ids: list[str], until: float, think: float, seed: int
) -> tuple[list[float], int]:
    """One coordinator: ask, read the answer, think, ask again (own keep-alive connection)."""
    rng = random.Random(seed)
    times, errors = [], 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    time.sleep(rng.uniform(0, think))  # coordinators do not all start in the same instant
    while time.perf_counter() < until:
        body = json.dumps({"pool_id": 1, "child_id": rng.choice(ids), "k": 5})
        started = time.perf_counter()
        conn.request("POST", "/v1/matching/suggestions", body, headers)
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
        errors += response.status != 200
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))
    conn.close()
    return times, errors


def load(port: int, token: str, ids: list[str], clients: int, seconds: float, think: float) -> None:
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        runs = list(pool.map(lambda i: client(port, token, ids, until, think, i), range(clients)))
    elapsed = time.perf_counter() - started
    ms = np.array([t for times, _ in runs for t in times]) * 1000
    errors = sum(e for _, e in runs)
    print(
        f"RESULT suggestions, {clients} clients, think {think} s, {len(ms)} requests "
        f"in {elapsed:.1f} s ({len(ms) / elapsed:.0f}/s): p50 {np.percentile(ms, 50):.1f} ms, "
        f"p95 {np.percentile(ms, 95):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms, "
        f"errors {errors}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--think", type=float, nargs="+", default=[1.0, 0.0])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CAPACITEIT_DATABASE_URL": f"sqlite:///{tmp}/load.db"}
        exe = [sys.executable, "-m", "capaciteit"]
        token = subprocess.run(
            [*exe, "token", "create", "--role", "matcher"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        kids, places = synthetic_pool(1000, 5000, seed=1)
        kids.to_csv(Path(tmp) / "children.csv", index=False)
        places.to_csv(Path(tmp) / "placements.csv", index=False)
        port = free_port()
        server = subprocess.Popen(
            [*exe, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            headers = {"Authorization": f"Bearer {token}"}
            with (
                open(Path(tmp) / "children.csv", "rb") as c,
                open(Path(tmp) / "placements.csv", "rb") as p,
            ):
                up = httpx.post(
                    f"{base}/v1/matching/pools",
                    headers=headers,
                    files={"children": c, "placements": p},
                    timeout=60,
                )
            up.raise_for_status()
            ids = list(kids["child_id"])
            # warm-up: the pool is built once per server process
            httpx.post(
                f"{base}/v1/matching/suggestions",
                headers=headers,
                json={"pool_id": 1, "child_id": ids[0]},
                timeout=60,
            ).raise_for_status()
            for think in args.think:
                load(port, token, ids, args.clients, args.seconds, think)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
