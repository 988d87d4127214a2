"""The ontwikkeltafel's pages under load: 10 members reading the plan, the diff, the report.

Makes the example's table as ``make demo`` does (two afbouw runs at ``--replications``,
then ``capaciteit voorbeeld-dienst``), starts ``capaciteit serve`` on that SQLite database
(one uvicorn process, one job worker that makes the quarterly report first), and when the
report is done runs ``--users`` concurrent signed-in browsers (threads, one keep-alive
connection each) for ``--seconds``, each opening at random the agreed plan's page, the
difference page (agreed plan against the proposal), the quarterly report's page and the
overview, with no pause between requests (the worst case). The peer, under the same
conditions in the same run: the health route (no database work, no template), so the
ratio says what the pages cost over the bare server. Prints p50/p95 per page and the ratio
of each p95 to the health route's, then ``RESULT``. The clients run on the same 2 cores as
the server: the figures are upper bounds. Target (issue 13): p95 <= 300 ms.

    .venv/bin/python bench/pages.py [--users 10] [--seconds 20] [--replications 2]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("capaciteit"))
REALISATION = ROOT / "models" / "voorbeeldregio-realisatie"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reader(
    port: int, cookie: str, pages: list[str], until: float, seed: int
) -> dict[str, list[float]]:
    """One member: open a random page, read nothing, open the next (own connection)."""
    rng = random.Random(seed)
    times: dict[str, list[float]] = {page: [] for page in pages}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": f"capaciteit_token={cookie}"}
    while time.perf_counter() < until:
        page = rng.choice(pages)
        started = time.perf_counter()
        conn.request("GET", page, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{page}: {response.status}")
        times[page].append(time.perf_counter() - started)
    conn.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--replications", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pages-bench-"))
    for name, scenario in (
        ("afspraak", "voorbeeldregio-transformatie.yaml"),
        ("herplan", "voorbeeldregio-sprint2.yaml"),
    ):
        subprocess.run(
            [
                CLI,
                "afbouw",
                str(ROOT / "simulations" / scenario),
                *("-o", str(tmp / name), "--replications", str(args.replications), "-q"),
            ],
            check=True,
            capture_output=True,
        )
    seeded = subprocess.run(
        [CLI, "voorbeeld-dienst", "--database", str(tmp / "dienst.db")]
        + ["--afspraak", str(tmp / "afspraak"), "--herplan", str(tmp / "herplan")]
        + [f"--realisatie={p}" for p in sorted(REALISATION.glob("realisatie-*.xlsx"))],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    token = re.search(r"│ Olga[^│]*│[^│]*│ (\S+) +│", seeded)
    ids = re.search(r"/plans/(\d+) · voorstel: /plans/(\d+) · kwartaalrapport: /runs/(\d+)", seeded)
    if token is None or ids is None:
        raise RuntimeError(f"voorbeeld-dienst said something else: {seeded}")
    agreed, proposal, report = ids.groups()
    port = free_port()
    env = {**os.environ, "CAPACITEIT_DATABASE_URL": f"sqlite:///{tmp / 'dienst.db'}"}
    server = subprocess.Popen(
        [CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                api = httpx.get(
                    f"{base}/v1/runs/{report}",
                    headers={"Authorization": f"Bearer {token.group(1)}"},
                    timeout=10,
                )
                if api.status_code == 200 and api.json()["status"] == "done":
                    break
            except httpx.TransportError:
                pass
            time.sleep(1)
        else:
            raise RuntimeError("the quarterly report was not made in time")
        pages = {
            "afgesproken plan": f"/plans/{agreed}",
            "verschillen": f"/plans/{agreed}/diff/{proposal}",
            "kwartaalrapport": f"/runs/{report}",
            "overzicht": "/plans",
            "health (peer)": "/v1/health",
        }
        until = time.perf_counter() + args.seconds
        with ThreadPoolExecutor(args.users) as pool:
            results = list(
                pool.map(
                    lambda i: reader(port, token.group(1), list(pages.values()), until, i),
                    range(args.users),
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    peer = np.concatenate([r[pages["health (peer)"]] for r in results]) * 1000
    peer_p95 = float(np.percentile(peer, 95))
    print(f"{args.users} users, {args.seconds:.0f} s, SQLite, 1 uvicorn process, 2 cores")
    worst = 0.0
    for name, path in pages.items():
        ms = np.concatenate([r[path] for r in results]) * 1000
        p50, p95 = float(np.percentile(ms, 50)), float(np.percentile(ms, 95))
        if path != pages["health (peer)"]:
            worst = max(worst, p95)
        print(
            f"{name:18s} n={len(ms):5d}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
            f"  p95/peer {p95 / peer_p95:6.1f}x"
        )
    print(f"RESULT worst page p95 {worst:.1f} ms (target <= 300 ms); health p95 {peer_p95:.1f} ms")


if __name__ == "__main__":
    main()
