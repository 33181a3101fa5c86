"""Client benchmarks, printed as ratios (goals from issue 4; run: python
benchmarks/bench_client.py).

(a) Building and producing the request body for a 37 MB video: peak memory as a multiple of
    the file size, for mimo_nb's streamed body and for the naive read + b64encode + json.dumps.
    Each variant runs in its own subprocess; peak = its VmHWM minus the RSS before the work.
    Goal: at most 2.5x the file size.
(b) 200 requests to a local server that answers after 50 ms, concurrency 16, via map: wall
    time as a multiple of the ideal 200 / 16 x 50 ms. Goal: within 1.15x.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILE_MB = 37
REQUESTS, CONCURRENCY, DELAY = 200, 16, 0.050


def _rss_bytes(field: str = "VmRSS") -> int:
    """This process's resident memory now (``VmHWM``: at its highest), from /proc."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    return 0


def _variant(name: str, path: str) -> None:
    """Run one body-building variant and print its peak memory above the starting RSS."""
    import base64
    import hashlib
    import json

    from mimo_nb.api.request import file_part, prepare_request

    prompt = "please describe the content of the video"
    before = _rss_bytes()
    if name == "naive":
        data = open(path, "rb").read()
        uri = "data:video/mp4;base64," + base64.b64encode(data).decode("ascii")
        body = json.dumps(
            {
                "model": "mimo-v2.5",
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "video_url",
                                "video_url": {"url": uri},
                                "fps": 2,
                                "media_resolution": "default",
                            },
                            {"type": "text", "text": prompt},
                        ],
                    }
                ],
                "max_completion_tokens": 1024,
            }
        ).encode("utf-8")
        size = len(body)
    elif name == "streamed":  # what MimoClient sends: chunks, straight to the socket
        prepared = prepare_request([file_part(path)], prompt)
        digest = hashlib.sha256()
        size = 0
        for chunk in prepared.iter_body():
            digest.update(chunk)
            size += len(chunk)
        assert size == prepared.content_length
    elif name == "one_bytes_object":  # PreparedRequest.body_bytes(): the whole body in memory
        body = prepare_request([file_part(path)], prompt).body_bytes()
        size = len(body)
    else:
        raise SystemExit(f"unknown variant {name}")
    # VmHWM, this process's own high-water mark: ru_maxrss would not do, as Linux carries it
    # over from the parent through fork and exec (a child of a 2 GB parent reports 2 GB).
    peak = _rss_bytes("VmHWM")
    print(f"{max(peak - before, 0)} {size}")


def bench_memory() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.mp4"  # random bytes: the body builder does not probe the file
        with open(path, "wb") as handle:
            for _ in range(FILE_MB):
                handle.write(os.urandom(2**20))
        file_size = path.stat().st_size
        print(
            f"(a) request body for a {FILE_MB} MB file ({file_size:,} bytes; base64 "
            f"{4 * ((file_size + 2) // 3) / 2**20:.1f} MB)"
        )
        for name in ("naive", "streamed", "one_bytes_object"):
            out = subprocess.run(
                [sys.executable, __file__, "--variant", name, str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            peak, size = int(out[0]), int(out[1])
            print(
                f"    {name:<17} peak {peak / 2**20:7.1f} MB = {peak / file_size:5.2f}x file size "
                f"(body {size / 2**20:.1f} MB)"
            )
        print("    goal: streamed <= 2.5x")


def bench_throughput() -> None:
    from mimo_nb.api.client import AsyncMimoClient

    ideal = REQUESTS / CONCURRENCY * DELAY
    # the server runs in its own process, as a real endpoint would: it must not share our GIL
    server = subprocess.Popen(
        [sys.executable, "-m", "mimo_nb.testing", "--api-key", "bench", "--delay", str(DELAY)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = (server.stdout.readline() if server.stdout else "").strip()
        url = base_url.rsplit("/v1", 1)[0] + "/clip.mp4"  # answers HEAD with a size

        async def run(n: int) -> tuple[float, int]:
            async with AsyncMimoClient("bench", base_url=base_url, timeout=30) as client:
                await client.map(
                    [url] * CONCURRENCY, prompt="p", concurrency=CONCURRENCY, progress=False
                )  # warm up
                start = time.perf_counter()
                result = await client.map(
                    [url] * n, prompt="p", concurrency=CONCURRENCY, progress=False
                )
                return time.perf_counter() - start, len(result.errors)

        async def run_plain_httpx(n: int) -> float:
            """The floor: bare httpx posting the same body, same server, same concurrency."""
            import httpx

            async with AsyncMimoClient("bench", base_url=base_url) as client:
                body = (await client.build_request(url, "p")).json
            sem = asyncio.Semaphore(CONCURRENCY)
            async with httpx.AsyncClient(
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=64)
            ) as http:

                async def one() -> None:
                    async with sem:
                        (
                            await http.post(
                                base_url + "/chat/completions",
                                json=body,
                                headers={"api-key": "bench"},
                            )
                        ).json()

                await asyncio.gather(*[one() for _ in range(CONCURRENCY)])  # warm up
                start = time.perf_counter()
                await asyncio.gather(*[one() for _ in range(n)])
                return time.perf_counter() - start

        plain = asyncio.run(run_plain_httpx(REQUESTS))
        wall, failed = asyncio.run(run(REQUESTS))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(
        f"(b) {REQUESTS} requests (a POST each; the URL size probed once by HEAD), server delay "
        f"{DELAY * 1000:.0f} ms, concurrency {CONCURRENCY}: {wall:.3f} s vs ideal {ideal:.3f} s = "
        f"{wall / ideal:.2f}x ideal ({failed} failed); goal <= 1.15x -> "
        f"{'MET' if wall / ideal <= 1.15 else 'MISSED'}"
    )
    print(
        f"    same run, bare httpx posting the same body: {plain:.3f} s = {plain / ideal:.2f}x "
        f"ideal (mimo_nb / bare httpx = {wall / plain:.2f}x)"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--variant":
        _variant(sys.argv[2], sys.argv[3])
    else:
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs (shared machine: numbers are "
            "noisy)"
        )
        bench_memory()
        bench_throughput()
