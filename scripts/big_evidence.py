#!/usr/bin/env python3
"""Writes an evidence file of N observations for the embedded Rotherham pack, for measuring
memory and time (scripts/memory.sh). Reads the pack's keys from `handback evidence template
--format json` on standard input and the functions from rules/rotherham/functions.json.

Every (key, function) pair the pack reads gets observations on successive days back from the
as-of date, cycling through the pairs, so no two observations conflict; values are typed as the key says; every observation
is cited, as a real one is, so the bytes per observation are like a real file's (about 250).
"""

import datetime
import json
import sys


def main():
    count = int(sys.argv[1])
    keys = json.load(sys.stdin)
    with open("rules/rotherham/functions.json", encoding="utf-8") as f:
        functions = [fn["id"] for fn in json.load(f)["functions"]]
    pairs = []
    for k in keys:
        if k["scope"] == "function":
            pairs.extend((k, fn) for fn in functions)
        else:
            pairs.append((k, None))
    # Counting back from the as-of date, so the latest observations are fresh and decide.
    as_of = datetime.date(2018, 3, 21)
    out = sys.stdout
    out.write('{\n  "council": "Rotherham Metropolitan Borough Council",\n')
    out.write('  "as_of": "2018-03-21",\n  "observations": [\n')
    for i in range(count):
        key, fn = pairs[i % len(pairs)]
        day = as_of - datetime.timedelta(days=i // len(pairs))
        kind = key["type"]
        if kind == "boolean":
            value = i % 3 != 0
        elif kind == "grade":
            levels = [l.strip() for l in key["levels"].split("<")]
            value = levels[i % len(levels)]
        elif key["unit"] == "share":
            value = (i % 100) / 100
        else:
            value = i % 1000
        o = {"id": f"o{i}", "key": key["key"], "value": value, "date": day.isoformat()}
        if fn is not None:
            o["function"] = fn
        if key["judgement"]:
            o["basis"] = "judgement"
            o["judged_by"] = "Commissioners"
        else:
            o["basis"] = "measured"
        o["source"] = {
            "document": "000_94efcd794c95ea6a.txt",
            "passage": f"generated observation {i} for a memory measurement",
        }
        out.write("    " + json.dumps(o, ensure_ascii=False))
        out.write(",\n" if i + 1 < count else "\n")
    out.write("  ]\n}\n")


if __name__ == "__main__":
    main()
