"""Metadata extraction accuracy and speed over the real-page corpus.

    .venv/bin/python bench/extraction.py [--corpus ../shared/corpus] [--misses title]

Each source's ``expected`` means something different (see the corpus README), so every field is
scored per source, only where that source annotates it, with a normalised comparison:
case, whitespace, entities and typographic quotes do not count, dates are compared as dates (a bare date
matches an instant that falls on it in some time zone), author lists as sets of names. Prints markdown and writes ``bench/results/extraction.md``.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import html
import json
import re
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from linkarchive.scraping.decode import decode_document  # noqa: E402
from linkarchive.scraping.extract import Metadata, extract_metadata  # noqa: E402
from linkarchive.scraping.extract.dates import parse_date  # noqa: E402
from linkarchive.scraping.extract.lang import normalize_lang  # noqa: E402

FIELDS = ("title", "description", "author", "site name", "lang", "date", "image")
# source -> field -> keys of that source's `expected` holding it (first non-empty one is used)
EXPECTED: dict[str, dict[str, tuple[str, ...]]] = {
    "mozilla/readability": {"title": ("title",), "description": ("excerpt",),
                            "author": ("byline",), "site name": ("siteName",),
                            "lang": ("lang",), "date": ("publishedTime",)},
    "adbar/trafilatura": {"title": ("title",), "description": ("description",),
                          "author": ("author",), "site name": ("sitename",), "date": ("date",)},
    "postlight/parser": {"title": ("title",), "description": ("dek",), "author": ("author",),
                         "date": ("date_published",), "image": ("lead_image_url",)},
    "AndyTheFactory/newspaper4k": {"title": ("title",), "description": ("meta_description",),
                                   "author": ("authors",), "site name": ("meta_site_name",),
                                   "lang": ("meta_lang",), "date": ("publish_date",),
                                   "image": ("meta_img",)},
    "adbar/htmldate": {"date": ("date",)},
}
# The readability suite parses every page as if it lived here.
READABILITY_URL = "http://fakehost/test/page.html"
# Readability's hand-written test cases are the pages under this size; they are not real pages.
SYNTHETIC_BELOW = 8 * 1024
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-",
                         "\u00a0": " ", "…": "..."})
_NAME_SEPARATORS = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\|)\s*", re.I)


def _text(value: str) -> str:
    value = unicodedata.normalize("NFKC", html.unescape(str(value))).translate(_QUOTES).casefold()
    return " ".join(value.split()).strip(" .")


def _names(value: Any) -> frozenset[str]:
    if isinstance(value, str) and value.startswith("["):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass
    items = value if isinstance(value, list) else [value]
    names = (n for item in items if isinstance(item, str) for n in _NAME_SEPARATORS.split(item))
    return frozenset(_text(re.sub(r"^by\s+", "", n, flags=re.I)) for n in names if n.strip())


def _moment(value: str) -> datetime | date | None:
    parsed = parse_date(value)
    if not parsed:
        return None
    try:
        moment = datetime.fromisoformat(parsed)
    except ValueError:
        return None
    if len(parsed) == 10:
        return moment.date()
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _same_date(got: str, want: str) -> bool:
    """Two instants match on their UTC date and two dates when equal; an instant matches a date
    when it falls on that date in some time zone (UTC-12 to UTC+14)."""
    a, b = _moment(got), _moment(want)
    if a is None or b is None:
        return False
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.astimezone(UTC).date() == b.astimezone(UTC).date()
    if not isinstance(a, datetime) and not isinstance(b, datetime):
        return a == b
    instant, day = (a, b) if isinstance(a, datetime) else (b, a)
    start = datetime.combine(day, datetime.min.time(), UTC) - timedelta(hours=14)
    return start <= instant < start + timedelta(hours=14 + 24 + 12)


def _url(value: str) -> str:
    return re.sub(r"^https?://", "", value.strip()).rstrip("/").lower()


COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "title": lambda got, want: _text(got) == _text(want),
    "description": lambda got, want: _text(got) == _text(want),
    "author": lambda got, want: _names(got) == _names(want),
    "site name": lambda got, want: _text(got) == _text(want),
    "lang": lambda got, want: normalize_lang(got) == normalize_lang(want),
    "date": lambda got, want: _same_date(got, want) if parse_date(want)
    else _text(got) == _text(want),
    "image": lambda got, want: _url(got) == _url(want),
}


def _got(metadata: Metadata, field: str) -> str | None:
    return metadata.publisher if field == "site name" else getattr(metadata, field)


def _wanted(expected: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = expected.get(key)
        if value not in (None, "", [], "[]", "None") and value == value:  # NaN: not annotated
            return value
    return None


def find_corpus(given: str | None) -> Path:
    candidates = [Path(given)] if given else [Path("/work/shared/corpus"),
                                              REPO.parent / "shared" / "corpus"]
    for candidate in candidates:
        if (candidate / "manifest.jsonl").is_file():
            return candidate
    raise SystemExit(f"no corpus found (looked in {', '.join(map(str, candidates))})")


def pages(corpus: Path) -> Iterator[tuple[dict[str, Any], bytes]]:
    with (corpus / "manifest.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            entry = json.loads(line)
            yield entry, gzip.decompress((corpus / entry["file"]).read_bytes())


def run(corpus: Path, misses: str | None) -> str:
    hits: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    guessed = [0, 0]
    count, size, elapsed = 0, 0, 0.0
    for entry, raw in pages(corpus):
        source = entry["source"]
        if source == "mozilla/readability" and len(raw) < SYNTHETIC_BELOW:
            continue
        url = entry["url"] or (READABILITY_URL if source == "mozilla/readability" else "")
        started = time.perf_counter()
        text, _ = decode_document(raw)
        metadata = extract_metadata(text, url)
        elapsed += time.perf_counter() - started
        count, size = count + 1, size + len(raw)
        if entry["lang"] != "und":
            guessed[0] += metadata.lang == entry["lang"]
            guessed[1] += 1
        for field, keys in EXPECTED.get(source, {}).items():
            want = _wanted(entry["expected"], keys)
            if want is None:
                continue
            got = _got(metadata, field)
            ok = got is not None and COMPARE[field](got, want)
            for key in ((source, field), ("all", field)):
                hits[key][0] += ok
                hits[key][1] += 1
            if misses == field and not ok:
                print(f"{entry['file']} [{source}] want {want!r} got {got!r}", file=sys.stderr)
    return _report(hits, guessed, count, size, elapsed)


def _report(hits: dict[tuple[str, str], list[int]], guessed: list[int], count: int, size: int,
            elapsed: float) -> str:
    sources = [s for s in EXPECTED if any((s, f) in hits for f in FIELDS)] + ["all"]
    lines = ["# Metadata extraction accuracy", "",
             "Share of pages where the extracted value matches the source's expectation "
             "(pages scored in brackets).", "",
             "| source | " + " | ".join(FIELDS) + " |",
             "|---|" + "---:|" * len(FIELDS)]
    for source in sources:
        cells = []
        for field in FIELDS:
            ok, total = hits.get((source, field), (0, 0))
            cells.append(f"{100 * ok / total:.0f}% ({total})" if total else "")
        name = "**all**" if source == "all" else source
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Language against the corpus manifest's own rough guess (every page, not ground "
                  f"truth): {100 * guessed[0] / max(guessed[1], 1):.0f}% ({guessed[1]}).",
              "", f"{count} pages, {size / 1e6:.1f} MB of HTML: decode + extract "
                  f"{count / elapsed:.0f} pages/s ({size / 1e6 / elapsed:.1f} MB/s), "
                  f"one thread.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", help="corpus folder (default /work/shared/corpus "
                                         "or ../shared/corpus from the repository root)")
    parser.add_argument("--misses", choices=FIELDS, help="list the pages that miss FIELD on stderr")
    args = parser.parse_args()
    report = run(find_corpus(args.corpus), args.misses)
    print(report)
    out = REPO / "bench" / "results" / "extraction.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
