"""Load-time benchmark: generated documents of 2,500, 5,000 and 10,000 operations.

Each document has N/4 collections, each with list, create, read and delete
operations (`/c{i}` and `/c{i}/{id}`), a schema with a few typed properties, a
pattern and a shared `$ref`, and no `x-specmock`: loading includes inference. It
measures the time to build `MockApp` (read, repair, infer, compile, route, reset)
in a fresh process each run, and prints the seconds per size and per 1,000 operations: a linear load
shows a flat last column. This is a measurement, not a test: it exits 0.

Run:  python benchmarks/bench_load.py [--sizes 2500 5000 10000] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = """
import json, sys, time
started = time.perf_counter()
from specmock import MockApp
app = MockApp([sys.argv[1]])
print(json.dumps({"seconds": time.perf_counter() - started, "operations": len(app.operations)}))
"""


def document(operations: int) -> dict[str, object]:
    """An OpenAPI 3.1 document with `operations` operations over operations/4 collections."""
    paths: dict[str, object] = {}
    schemas: dict[str, object] = {
        "Code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{1,8}$"},
    }
    for i in range(operations // 4):
        name = f"Thing{i}"
        ref = {"$ref": f"#/components/schemas/{name}"}
        schemas[name] = {
            "type": "object",
            "required": ["name"],
            "properties": {
                "id": {"type": "integer", "readOnly": True},
                "name": {"type": "string", "maxLength": 80},
                "code": {"$ref": "#/components/schemas/Code"},
                "size": {"type": "number", "minimum": 0},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
        }
        body = {"required": True, "content": {"application/json": {"schema": ref}}}
        one = {"description": "one", "content": {"application/json": {"schema": ref}}}
        many = {"description": "many", "content": {"application/json": {"schema": {"type": "array", "items": ref}}}}
        item_id = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
        paths[f"/c{i}"] = {
            "get": {"operationId": f"list{i}", "responses": {"200": many}},
            "post": {"operationId": f"create{i}", "requestBody": body, "responses": {"201": one}},
        }
        paths[f"/c{i}/{{id}}"] = {
            "parameters": item_id,
            "get": {"operationId": f"get{i}", "responses": {"200": one}},
            "delete": {"operationId": f"delete{i}", "responses": {"204": {"description": "gone"}}},
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": f"Generated {operations}", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 10000])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"{'operations':>10} {'served':>7} {'seconds':>8} {'s/1k ops':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            spec = Path(folder) / f"generated-{size}.json"
            spec.write_text(json.dumps(document(size)))
            times = []
            served = 0
            for _ in range(args.runs):
                out = subprocess.run([sys.executable, "-c", PROBE, str(spec)], capture_output=True, text=True)
                if out.returncode != 0:
                    print(out.stderr, file=sys.stderr)
                    return 0
                figures = json.loads(out.stdout.strip().splitlines()[-1])
                times.append(figures["seconds"])
                served = figures["operations"]
            best = min(times)
            print(f"{size:>10} {served:>7} {best:>8.2f} {best / size * 1000:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
