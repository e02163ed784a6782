"""Assess and plan a council's evidence through `handback api` (JSON lines over a pipe).

Standard library only. Usage:

    python3 examples/python/stdio_api.py HANDBACK EVIDENCE.json DIRECTIONS.json

where HANDBACK is the `handback` binary (e.g. target/release/handback). Prints the verdicts as
JSON: every outcome, the phase, the tranche and whether the intervention can end.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verdicts import answer, request, summary  # noqa: E402


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    handback, evidence_path, directions_path = sys.argv[1:]
    with open(evidence_path, encoding="utf-8") as f:
        evidence = f.read()
    with open(directions_path, encoding="utf-8") as f:
        directions = f.read()
    # One long-lived process answers any number of requests, one line each.
    api = subprocess.Popen(
        [handback, "api"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
    )

    def ask(line):
        api.stdin.write(line + "\n")
        api.stdin.flush()
        return answer(api.stdout.readline())

    assessment = ask(request("assess", evidence))
    plan = ask(request("plan", evidence, directions))["plan"]
    api.stdin.close()
    api.wait()
    print(json.dumps(summary(assessment, plan), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
