"""How fast a tag vocabulary grows: the offline tagger over corpus pages, folded and unfolded.

Each page's tags feed a growing vocabulary, as in a real user's archive (most used tags first),
so later tags fold onto earlier spellings. The baseline tags every page with an empty vocabulary.

    .venv/bin/python bench/tag_vocabulary.py [--corpus /work/shared/corpus] [--pages 1000]
"""

from __future__ import annotations

import argparse
import codecs
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio

from linkarchive.config.settings import ModelSettings
from linkarchive.scraping.extract import extract_metadata
from linkarchive.tagging import SITE, PageFacts, Tagger, TagResult

RESULTS = Path(__file__).parent / "results" / "tag_vocabulary.md"
# Reported by another archive: 592 links carried 836 distinct AI-generated tags.
REFERENCE_LINKS, REFERENCE_TAGS = 592, 836
NO_MODEL = ModelSettings(openai_base_url="", openai_api_key="", openai_model="",
                         openai_timeout=1.0)
CHECKPOINTS = (100, 250, 500, 1000)
_META_CHARSET = re.compile(rb"<meta[^>]{0,400}?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
# Readability's hand-written test cases are all under 8 KB; they are not real pages.
_SYNTHETIC_BYTES = 8 * 1024


def _decode(raw: bytes) -> str:
    """The page's declared charset when it decodes cleanly, else UTF-8 with replacement."""
    match = _META_CHARSET.search(raw[:16 * 1024])
    if match:
        try:
            return raw.decode(codecs.lookup(match.group(1).decode("ascii")).name)
        except (LookupError, UnicodeDecodeError):
            pass
    return raw.decode("utf-8", errors="replace")


def read_pages(corpus: Path, limit: int) -> Iterator[tuple[str, PageFacts]]:
    """Up to ``limit`` real pages of the corpus in manifest order, with their language guess."""
    count = 0
    with (corpus / "manifest.jsonl").open(encoding="utf-8") as manifest:
        for line in manifest:
            entry = json.loads(line)
            raw = gzip.decompress((corpus / entry["file"]).read_bytes())
            if entry["source"] == "mozilla/readability" and len(raw) < _SYNTHETIC_BYTES:
                continue
            url = entry["url"] or "http://fakehost/test/page.html"  # readability's convention
            meta = extract_metadata(_decode(raw), url)
            yield entry["lang"], PageFacts(
                url=url, title=meta.title, description=meta.description,
                site_name=meta.publisher, lang=meta.lang, kind=meta.kind, keywords=meta.keywords)
            count += 1
            if count == limit:
                return


@dataclass(frozen=True)
class Run:
    results: list[TagResult]
    seconds: float

    def distinct(self, links: int | None = None, *, sites: bool = True) -> int:
        return len({tag.name for r in self.results[:links] for tag in r.tags
                    if sites or tag.kind != SITE})


async def tag_all(pages: list[PageFacts], *, fold: bool) -> Run:
    """Tag every page; with ``fold`` each page sees the vocabulary grown by the pages before."""
    uses: Counter[str] = Counter()
    results: list[TagResult] = []
    started = time.perf_counter()
    async with Tagger(NO_MODEL) as tagger:
        for facts in pages:
            vocabulary = [name for name, _ in uses.most_common()] if fold else []
            result = await tagger.tag(facts, vocabulary=vocabulary)
            uses.update(result.names)
            results.append(result)
    return Run(results, time.perf_counter() - started)


def report(languages: Counter[str], folded: Run, unfolded: Run) -> str:
    links = len(folded.results)
    counts = [len(r.tags) for r in folded.results]
    by_kind = Counter(tag.kind for r in folded.results for tag in r.tags)
    topical = sum(any(t.kind == "keyword" for t in r.tags) for r in folded.results)
    lines = [
        "# Tag vocabulary growth (offline tagger)", "",
        f"{links} corpus pages ({', '.join(f'{k} {v}' for k, v in languages.most_common(6))}, …) "
        "read with `linkarchive.scraping.extract.extract_metadata`. Each page's tags feed the "
        "vocabulary the next page is folded onto, most used first; the baseline folds nothing.",
        "",
        f"Tags per link (folded): mean {statistics.mean(counts):.2f}, "
        f"p50 {statistics.median(counts):g}, max {max(counts)}.", "",
        "| run | links | distinct tags | per link | without site tags | per link |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, run in (("folded onto the growing vocabulary", folded),
                       ("no folding (baseline)", unfolded)):
        lines.append(f"| offline, {label} | {links} | {run.distinct()} | "
                     f"{run.distinct() / links:.2f} | {run.distinct(sites=False)} | "
                     f"{run.distinct(sites=False) / links:.2f} |")
    lines += [
        f"| AI tags reported by another archive | {REFERENCE_LINKS} | {REFERENCE_TAGS} | "
        f"{REFERENCE_TAGS / REFERENCE_LINKS:.2f} | | |", "",
        "Vocabulary size as links accumulate (folded, all kinds): "
        + ", ".join(f"{n} links → {folded.distinct(n)}" for n in CHECKPOINTS if n <= links) + ".",
        "",
        f"- Folding saved {unfolded.distinct() - folded.distinct()} distinct tags "
        f"({1 - folded.distinct() / unfolded.distinct():.1%}).",
        f"- Tags by kind (folded): {', '.join(f'{k} {v}' for k, v in by_kind.most_common())}.",
        f"- Links with at least one topical (keyword) tag: {topical} ({topical / links:.1%}).",
        f"- Tagging time: {1000 * folded.seconds / links:.2f} ms per link with folding, "
        f"{1000 * unfolded.seconds / links:.2f} ms without.",
        "- Caveat: the corpus is hundreds of unrelated sites in many languages, not one "
        "person's interests, so its vocabulary grows faster than an archive's would; the "
        "reference counts AI tags only, which the column without site tags matches best.",
    ]
    return "\n".join(lines) + "\n"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    parser.add_argument("--pages", type=int, default=1000)
    args = parser.parse_args()
    read = list(read_pages(args.corpus, args.pages))
    pages = [facts for _, facts in read]
    folded = await tag_all(pages, fold=True)
    unfolded = await tag_all(pages, fold=False)
    text = report(Counter(lang for lang, _ in read), folded, unfolded)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    anyio.run(main)
