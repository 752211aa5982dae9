"""Lighthouse scores of the built site, and what each page weighs: the site's speed gate.

Runs Lighthouse (npm ``lighthouse``, installed by ``tools/setup.sh`` into
``tools/site-checks/``) with Debian's Chromium, offline, on the landing page and every chapter
of ``_build/html``: performance, accessibility, best practices and SEO. The pages are served
from 127.0.0.1 with gzip, as GitHub Pages serves them; every other host is unresolvable for
Chromium, so nothing leaves the machine.

Two presets, each gated (exit status 1 when a page misses its threshold):

- ``desktop`` (``--preset=desktop``: no CPU slowdown, fast network): every category >= 90;
- ``mobile`` (Lighthouse's defaults: a simulated slow 4G connection and a processor four times
  slower than this one): performance >= 80, the other categories >= 90.

Lighthouse's performance score is a simulation fed by one real page load, and on a shared
two-core machine it moves by up to 20 points from one run to the next. So each page is run
``--runs`` times (default 3) per preset and the gate reads the median; the range is printed
beside it. Lighthouse is kept out of the test suite (a run takes 20-60 s per page here, and
its score is a timing); what the scores rest on is tested there instead (no script blocks a
page's first screen, the icon fonts hold only the icons shown, pages stay under 1.5 MB).

    .venv/bin/python benchmarks/bench_site.py                 # or: make bench
    .venv/bin/python benchmarks/bench_site.py --preset mobile --pages index.html --runs 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
from site_server import CHROMIUM, CHROMIUM_ARGS, GzipHandler, serve_folder

SITE = Path(os.environ.get("CTXEMBED_SITE", REPO / "_build" / "html"))
LIGHTHOUSE = REPO / "tools" / "site-checks" / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
THRESHOLD = 90                            # every category, both presets ...
MOBILE_PERFORMANCE_THRESHOLD = 80         # ... but a phone's performance
CHROME_FLAGS = " ".join(["--headless=new", *CHROMIUM_ARGS])


def pages_to_check(site: Path) -> list[str]:
    return ["index.html"] + sorted(p.relative_to(site).as_posix() for p in (site / "chapters").glob("*.html"))


def lighthouse(url: str, preset: str, out: Path) -> dict:
    """One Lighthouse run; returns {category: score 0-100, 'bytes': total transfer, 'failed': [...]}"""
    node = shutil.which("node") or "node"
    cmd = [node, str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}",
           "--max-wait-for-load=60000"]
    if preset == "desktop":
        cmd.append("--preset=desktop")
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    if proc.returncode != 0 or not out.is_file():
        raise RuntimeError(f"lighthouse failed on {url}: {proc.stderr[-1500:]}")
    report = json.loads(out.read_text())
    scores = {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES}
    audits = report["audits"]
    scores["bytes"] = audits.get("total-byte-weight", {}).get("numericValue", 0)
    scores["lcp_ms"] = audits.get("largest-contentful-paint", {}).get("numericValue", 0)
    scores["tbt_ms"] = audits.get("total-blocking-time", {}).get("numericValue", 0)
    failed = []
    for c in CATEGORIES:
        for ref in report["categories"][c]["auditRefs"]:
            a = audits.get(ref["id"], {})
            if ref.get("weight", 0) > 0 and a.get("score") is not None and a["score"] < 0.9:
                failed.append(f"{c}:{ref['id']}")
    scores["failed"] = failed
    return scores


def threshold(preset: str, category: str) -> int:
    return MOBILE_PERFORMANCE_THRESHOLD if (preset, category) == ("mobile", "performance") else THRESHOLD


def median_run(runs: list[dict]) -> dict:
    """The run whose performance score is the median of ``runs`` (an odd count: the middle
    one), with each category's median score."""
    ordered = sorted(runs, key=lambda r: r["performance"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    for c in CATEGORIES:
        scores = sorted(r[c] for r in runs)
        middle[c] = scores[(len(scores) - 1) // 2]
    middle["range"] = (ordered[0]["performance"], ordered[-1]["performance"])
    return middle


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=["mobile", "desktop", "both"], default="both")
    parser.add_argument("--pages", nargs="*", help="pages relative to _build/html (default: landing page + chapters)")
    parser.add_argument("--gate", choices=["mobile", "desktop", "both", "none"], default="both",
                        help="which presets' medians must reach their thresholds (default: both)")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page and preset (default 3)")
    parser.add_argument("--json", type=Path, help="also write the scores here")
    args = parser.parse_args(argv)
    if not (SITE / "index.html").is_file():
        print(f"no built site at {SITE}: build it with `bash tools/build.sh`")
        return 1
    if not LIGHTHOUSE.is_file():
        print(f"{LIGHTHOUSE} is missing: run `bash tools/setup.sh`")
        return 1
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: run `bash tools/setup.sh`")
        return 1
    presets = ["desktop", "mobile"] if args.preset == "both" else [args.preset]
    pages = args.pages or pages_to_check(SITE)
    results, below = {}, []
    tmp = Path(tempfile.mkdtemp(prefix="ctxembed-lighthouse-"))
    with serve_folder(SITE, GzipHandler) as base:
        print(f"Lighthouse on {len(pages)} page(s) of {SITE}, served gzipped from {base} (offline), "
              f"median of {args.runs} run(s)")
        print(f"{'page':44s} {'preset':8s} {'perf':>4s} {'range':>7s} {'a11y':>4s} {'best':>4s} {'seo':>4s} "
              f"{'MB':>5s} {'LCP s':>5s} {'TBT ms':>6s}  s/run")
        for page in pages:
            for preset in presets:
                gated = args.gate in (preset, "both")
                start = time.perf_counter()
                runs = []
                for k in range(args.runs):
                    try:
                        runs.append(lighthouse(f"{base}/{page}", preset,
                                               tmp / f"{page.replace('/', '_')}.{preset}.{k}.json"))
                    except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as exc:  # report, go on
                        print(f"{page:44s} {preset:8s} FAILED: {exc}")
                if not runs:
                    if gated:
                        below.append(f"{page} ({preset}): lighthouse failed")
                    continue
                took = (time.perf_counter() - start) / args.runs
                s = median_run(runs)
                results.setdefault(page, {})[preset] = {**s, "runs": [r["performance"] for r in runs]}
                low = [c for c in CATEGORIES if s[c] < threshold(preset, c)]
                if gated:
                    below += [f"{page} ({preset}) {c}={s[c]} < {threshold(preset, c)}" for c in low]
                spread = f"{s['range'][0]}-{s['range'][1]}"
                print(f"{page:44s} {preset:8s} {s['performance']:4d} {spread:>7s} {s['accessibility']:4d} "
                      f"{s['best-practices']:4d} {s['seo']:4d} {s['bytes'] / 1e6:5.2f} "
                      f"{s['lcp_ms'] / 1000:5.1f} {s['tbt_ms']:6.0f}  {took:4.0f}"
                      + (f"   below: {', '.join(low)}; audits under 0.9: {s['failed'][:6]}" if low else ""),
                      flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print("(perf: the median run's score, range: lowest-highest over the runs; MB: bytes transferred, "
          "gzipped, shared JavaScript and CSS included; LCP, TBT: the median run's)")
    if below:
        print(f"below the gate: {'; '.join(below)}")
        return 1
    if args.gate != "none":
        print(f"gate passed: desktop every category >= {THRESHOLD}; mobile performance >= "
              f"{MOBILE_PERFORMANCE_THRESHOLD}, the rest >= {THRESHOLD} (medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
