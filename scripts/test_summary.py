"""Print the per-phase summary of `make test`: test counts from JUnit XML, wall times, budgets.

Usage: python scripts/test_summary.py RESULTS_DIR PHASE_TIMES_FILE
The last line is the plain total ``tests: N passed, N failed, N skipped``.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# CI budget per phase, seconds (README, "Continuous integration").
BUDGET_S = {"install": 20 * 60, "notebooks": 25 * 60, "browser": 10 * 60}


def counts(xml_file: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) of one JUnit XML file; errors count as failures."""
    root = ET.parse(xml_file).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


def main(results: Path, times_file: Path) -> int:
    times: dict[str, tuple[int, int]] = {}
    if times_file.exists():
        for line in times_file.read_text().splitlines():
            name, secs, rc = line.split("\t")
            times[name] = (int(secs), int(rc))
    print("\n== make test summary")
    print(f"{'phase':<10} {'seconds':>8} {'budget':>8} {'passed':>7} {'failed':>7} {'skipped':>8}")
    totals = [0, 0, 0]
    status = 0
    for name, (secs, rc) in times.items():
        xml = results / f"{name}.xml"
        p, f, s = counts(xml) if xml.exists() else (0, 0, 0)
        totals = [totals[0] + p, totals[1] + f, totals[2] + s]
        budget = BUDGET_S.get(name)
        flag = ""
        if budget is not None and secs > budget:
            flag = "  OVER BUDGET"
        if rc != 0:
            flag += f"  exit {rc}"
            status = 1
        shown = "-" if budget is None else str(budget)
        print(f"{name:<10} {secs:>8} {shown:>8} {p:>7} {f:>7} {s:>8}{flag}")
    print(f"total time: {sum(s for s, _ in times.values())} s")
    print(f"tests: {totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return status


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
