"""What both examples print: the verdicts of an assessment and a plan, reduced to plain data.

Shared by stdio_api.py and ctypes_api.py so the two print the same thing for the same inputs,
and the test suite can compare both with the command line's `--format json` output.
"""

import json


def request(op, evidence_text, directions_text=None, **extra):
    """A request line for `op` over the evidence (and Directions), as the API takes it."""
    body = {"id": op, "op": op, "evidence": evidence_text}
    if directions_text is not None:
        body["directions"] = directions_text
    body.update(extra)
    return json.dumps(body)


def summary(assessment, plan):
    """Every outcome by rule (and function), the phase, the tranche and whether the
    intervention can end."""
    outcomes = {}
    for r in assessment["results"]:
        name = r["rule"] + ("@" + r["function"] if r.get("function") else "")
        outcomes[name] = r["outcome"]
    return {
        "council": assessment["council"],
        "as_of": assessment["as_of"],
        "outcomes": outcomes,
        "phase": plan["phase"]["number"] if plan.get("phase") else None,
        "tranche": [t["function"] for t in plan["tranche"]],
        "exit_possible": plan["exit"]["possible"],
    }


def answer(response_text):
    """The result of a response line, or exit with its error."""
    response = json.loads(response_text)
    if not response["ok"]:
        raise SystemExit("handback refused the request: " + json.dumps(response["error"]))
    return response["result"]
