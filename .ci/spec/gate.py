#!/usr/bin/env python3
"""Reads schemathesis's JUnit report and decides CI: any failure fails it, except the one kind the
spec documents as deliberate (its "Deliberate differences" section): `positive_data_acceptance`
(ST202), a schema-valid request refused for a reason no schema can express — state or time, such as
an allotment larger than the unassigned credits or a message too long once the organisation's
header and footer are added. Prints the count of every kind either way."""
import collections
import glob
import sys
import xml.etree.ElementTree as ElementTree

DELIBERATE = {"ST202": "positive_data_acceptance (state- or time-dependent refusals, documented in the spec)"}


def main(directory):
    reports = glob.glob(f"{directory}/*.xml")
    if not reports:
        print(f"gate: no JUnit report in {directory}: schemathesis did not run")
        return 1
    cases = 0
    kinds = collections.Counter()
    examples = {}
    for report in reports:
        for case in ElementTree.parse(report).getroot().iter("testcase"):
            cases += 1
            for failure in list(case.iter("failure")) + list(case.iter("error")):
                kind = failure.get("message") or failure.tag
                kinds[kind] += 1
                examples.setdefault(kind, (case.get("name"), (failure.text or "").strip()[:1200]))
    print(f"gate: {cases} operations checked")
    failed = False
    for kind, count in sorted(kinds.items()):
        allowed = kind in DELIBERATE
        print(f"  {kind}: {count} operation(s){' — deliberate: ' + DELIBERATE[kind] if allowed else ''}")
        if not allowed:
            failed = True
            name, text = examples[kind]
            print(f"    first: {name}\n" + "\n".join("      " + line for line in text.splitlines()))
    if cases == 0:
        print("gate: the report holds no operations")
        return 1
    print("gate: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
