"""Run the whole asv suite once, quickly, and fail if any benchmark errored.

``asv run`` reports a broken benchmark in its output but exits 0, so this
wrapper reads the output: any "failed" result is an error.  No timing is
asserted.  Run from ``asv_bench/``.
"""

import re
import subprocess
import sys


def main():
    done = subprocess.run(
        ["asv", "run", "--python=same", "--quick", "--show-stderr"],
        capture_output=True, text=True)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    failed = [line for line in done.stdout.splitlines()
              if re.search(r"\bfailed\b", line) or "Traceback" in line]
    if done.returncode != 0 or failed:
        print(f"asv: {len(failed)} failing benchmark line(s)", file=sys.stderr)
        return 1
    print("asv: every benchmark ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
