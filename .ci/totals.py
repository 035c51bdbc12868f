#!/usr/bin/env python3
"""The totals of every surefire and failsafe report of the given build folders: the last line of ./test.sh.

    .ci/totals.py [--failed-runs N] BUILD_DIR...     e.g. .ci/totals.py target target-netty41

BUILD_DIR is a build folder name (-Dtfo.buildDir, default "target"); the reports are read from
<module>/BUILD_DIR/*-reports/TEST-*.xml under the repository root, whatever the current directory. N is the number
of Maven runs that failed (test.sh passes it).

The last line printed is the count CI reads:
    N passed, 0 failed, 0 skipped, D declared skips (R reports, M Maven run(s), 0 failed)
It exits non-zero (the line then ends with the rule) on a failed Maven run, on any failed test, on any skipped test
except a DECLARED skip, and on no test at all. A declared skip is a test of something that does not exist on that
Netty line (io_uring on 4.1): its reason starts with "declared: " (TestTransport.DECLARED); such skips are counted
apart, and each reason is printed above the totals with its count.
"""
import argparse
import collections
import glob
import os
import re
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def reason(skipped):
    # Surefire writes the reason as a message attribute, or (JUnit 5 aborts) as the stack trace's first line.
    text = skipped.get("message") or (skipped.text or "").strip().split("\n")[0]
    text = re.sub(r"^[\w.$]+(Exception|Error): ", "", text.strip())
    return re.sub(r"^Assumption failed: ", "", text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--failed-runs", type=int, default=0, help="Maven runs that failed (default 0)")
    parser.add_argument("dirs", nargs="+", metavar="BUILD_DIR")
    args = parser.parse_args()
    os.chdir(ROOT)

    run = failed = reports = 0
    declared = collections.Counter()
    undeclared = []
    undeclared_tests = 0
    for d in args.dirs:
        for f in sorted(set(glob.glob(f"**/{d}/*-reports/TEST-*.xml", recursive=True))):
            r = ET.parse(f).getroot()
            reports += 1
            run += int(r.get("tests", 0))
            failed += int(r.get("failures", 0)) + int(r.get("errors", 0))
            counted = int(r.get("skipped", 0))
            for case in r.iter("testcase"):
                for s in case.findall("skipped"):
                    why = reason(s)
                    if why.startswith("declared: "):
                        declared[f"{d}: {why}"] += 1
                    else:
                        undeclared.append(f"{f}: {case.get('classname')}.{case.get('name')}: {why or '(no reason)'}")
                        undeclared_tests += 1
                    counted -= 1
            if counted > 0:
                undeclared.append(f"{f}: {counted} skipped test(s) without a <skipped> reason")
                undeclared_tests += counted
    for why, n in sorted(declared.items()):
        print(f"declared skip x{n} ({why})")
    for u in undeclared:
        print(f"UNDECLARED skip: {u}")
    skipped = sum(declared.values()) + undeclared_tests
    line = (f"{run - failed - skipped} passed, {failed} failed, {undeclared_tests} skipped, "
            f"{sum(declared.values())} declared skips ({reports} reports, {len(args.dirs)} Maven run(s), "
            f"{args.failed_runs} failed)")
    if run == 0 or failed or undeclared or args.failed_runs:
        raise SystemExit(f"{line}: nothing may fail or be skipped (except a declared skip)")
    print(line)


if __name__ == "__main__":
    main()
