"""Run every benchmark in this folder, one after another, and collect their tables.

``.venv/bin/python bench/run_all.py`` (or ``make bench``); each benchmark also writes its own
table to ``bench/results/``. Benchmarks that read the real-page corpus look for it in
``../shared/corpus`` beside the repository and are skipped when it is not there.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
CORPUS = HERE.parent.parent / "shared" / "corpus"
ORDER = ("mailbox", "storage", "thumbnails", "pipeline", "api", "import", "extraction",
         "tag_vocabulary")
NEEDS_CORPUS = {"extraction", "tag_vocabulary"}


def main() -> int:
    failures = 0
    for name in ORDER:
        script = HERE / f"{name}.py"
        if not script.exists():
            continue
        if name in NEEDS_CORPUS and not CORPUS.exists():
            print(f"## {name}: skipped, no corpus at {CORPUS}\n")
            continue
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        print(f"\n({name}: {time.monotonic() - started:.0f} s, exit {result.returncode})\n")
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
