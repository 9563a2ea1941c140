"""Loading a catalog of 20,000 services: ``load_catalog`` against reading the YAML alone.

Writes a catalog file the way a large organisation's would look (each service with
a description, an alerts channel, default and per-class owners, an escalation chain,
slices, two runbooks, one SLO and a declared signal; 100 teams), then times, on the same file:

- ``load_catalog``: decode, parse, validate, cross-reference (what ``serve`` and
  ``check-config`` do), and ``check_config`` on top of it;
- references: PyYAML's C loader alone (``yaml.load(text, CSafeLoader)``: parsing
  with no validation at all) and the pure-Python ``yaml.safe_load`` the catalog
  used before, which took 34 s for 20,000 services.

The ratio of ``load_catalog`` to the C-loader parse is the figure that holds on
a shared machine; the absolute target is under 2 s.

    python3 benchmarks/catalog_load.py                 # 20,000 services, best of 3
    python3 benchmarks/catalog_load.py --services 5000 --no-pure
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config.catalog import load_catalog  # noqa: E402
from bot.config.check import check_config  # noqa: E402

TARGET_SECONDS = 2.0


def catalog_document(count: int) -> dict:
    services = []
    for i in range(count):
        services.append({
            "name": f"svc-{i:05d}", "description": f"Generated service number {i}",
            "alerts_channel": f"C{i % 50:08d}",
            "owners": {"default": {"users": [f"U{i % 700:08d}"]},
                       "data": {"users": [f"U{i % 300:08d}"], "groups": [f"S{i % 40:08d}"]}},
            "escalation": {"ack_timeout_minutes": 15,
                           "chain": [f"U{i % 700:08d}", f"U{(i + 1) % 700:08d}"]},
            "slices": ["model_version", "tenant"],
            "runbooks": ["disable-flag", "scale-replicas"],
            "signals": [{"name": "latency_p95_ms", "layer": "runtime"}],
            "slos": [{"name": "availability", "target": 0.995,
                      "sli": {"kind": "availability", "signal": "error_rate"}}],
        })
    teams = [{"name": f"team-{t}", "channel": f"C9{t:07d}",
              "services": [f"svc-{i:05d}" for i in range(t, count, 100)]} for t in range(100)]
    return {"services": services, "teams": teams}


def best(runs: int, work) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-pure", action="store_true",
                        help="skip the pure-Python YAML reference (slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "resilio.yml"
        path.write_text(yaml.safe_dump(catalog_document(args.services), sort_keys=False))
        size = path.stat().st_size
        print(f"catalog: {args.services:,} services, {size / 1e6:.1f} MB of YAML "
              f"(libyaml: {yaml.__with_libyaml__})")
        parse, _ = best(args.runs, lambda: yaml.load(path.read_text(),  # noqa: S506
                                                     Loader=yaml.CSafeLoader))
        load, catalog = best(args.runs, lambda: load_catalog(path))
        checked, problems = best(1, lambda: check_config(catalog))  # type: ignore[arg-type]
        assert len(catalog.services) == args.services and not problems, problems  # type: ignore[union-attr]
        print(f"reference, yaml.load(CSafeLoader), parse only: {parse:.2f} s")
        print(f"load_catalog (parse + validate):                {load:.2f} s  "
              f"ratio {load / parse:.2f} of the parse-only reference")
        print(f"check_config on top (runbooks, owners):         {checked:.2f} s")
        if not args.no_pure:
            pure, _ = best(1, lambda: yaml.safe_load(path.read_text()))
            print(f"reference, yaml.safe_load (pure Python, before): {pure:.2f} s  "
                  f"ratio {load / pure:.2f}")
        verdict = "meets" if load < TARGET_SECONDS else "misses"
        print(f"{verdict} the target: {args.services:,} services in {load:.2f} s "
              f"(target under {TARGET_SECONDS:g} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
