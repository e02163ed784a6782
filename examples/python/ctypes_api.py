"""Assess and plan a council's evidence through Handback's C ABI, loaded with ctypes.

Standard library only. Usage:

    python3 examples/python/ctypes_api.py LIBRARY EVIDENCE.json DIRECTIONS.json

where LIBRARY is the shared library `cargo build -p handback-ffi` makes
(target/debug/libhandback_ffi.so on Linux). Prints what stdio_api.py prints.
"""

import ctypes
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verdicts import answer, request, summary  # noqa: E402


def load(path):
    lib = ctypes.CDLL(path)
    lib.handback_version.restype = ctypes.c_char_p
    lib.handback_version.argtypes = []
    # The response is Handback's memory: keep the raw pointer to hand back to handback_free.
    lib.handback_request.restype = ctypes.c_void_p
    lib.handback_request.argtypes = [ctypes.c_char_p]
    lib.handback_free.restype = None
    lib.handback_free.argtypes = [ctypes.c_void_p]
    return lib


def call(lib, line):
    """Sends one request (str, or bytes as they are) and returns the response text."""
    data = line.encode("utf-8") if isinstance(line, str) else line
    pointer = lib.handback_request(data)
    try:
        return ctypes.string_at(pointer).decode("utf-8")
    finally:
        lib.handback_free(pointer)


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    library, evidence_path, directions_path = sys.argv[1:]
    lib = load(library)
    with open(evidence_path, encoding="utf-8") as f:
        evidence = f.read()
    with open(directions_path, encoding="utf-8") as f:
        directions = f.read()
    assessment = answer(call(lib, request("assess", evidence)))
    plan = answer(call(lib, request("plan", evidence, directions)))["plan"]
    print(json.dumps(summary(assessment, plan), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
