"""Full-text search on both dialects: Korean substrings, English words, ranking, scope, and
query text that looks like query syntax."""

from __future__ import annotations

import random

import pytest

from linkarchive.storage import repositories as repo
from linkarchive.storage.database import Database
from linkarchive.storage.repositories import textindex
from tests.storage.conftest import MakeUser

pytestmark = pytest.mark.anyio

LINKS = {
    "stew": dict(url="https://blog.example.com/recipes/1", title="오늘 저녁은 김치찌개를 끓였다",
                 note="엄마 레시피", tags=["요리"]),
    "fried": dict(url="https://blog.example.com/recipes/2", title="김치볶음밥 만들기",
                  description="간단한 한 끼"),
    "soybean": dict(url="https://food.example.org/doenjang", title="된장찌개 맛집",
                    tags=["맛집"]),
    "chicken": dict(url="https://chicken.example.org", title="치킨 배달", note="금요일 밤"),
    "react": dict(url="https://www.youtube.com/watch?v=hooks101", title="React Hooks Tutorial",
                  description="useState and useEffect explained", tags=["frontend"]),
    "react-old": dict(url="https://example.com/react-classes", title="Class components",
                      description="Before hooks, React used classes"),
    "python": dict(url="https://docs.python.org/3/library/asyncio.html", title="asyncio",
                   note="Ｐｙｔｈｏｎ 공식 문서", tags=["파이썬"]),
}


@pytest.fixture
async def corpus(database: Database, user: repo.User) -> dict[str, str]:
    """The links above for ``user``; answers name → link id."""
    ids = {}
    async with database.write() as tx:
        for name, fields in LINKS.items():
            link, _ = await repo.create_or_get(tx, user.id, fields["url"], f"hash-{name}",
                                               note=fields.get("note"),
                                               tags=fields.get("tags", ()))
            await repo.begin_scrape(tx, link.id, run=0)
            await repo.save_scraped(tx, link.id, repo.ScrapedMetadata(
                title=fields["title"], description=fields.get("description")), run=0)
            ids[name] = link.id
    return ids


async def found(database: Database, user: repo.User, corpus: dict[str, str], query: str,
                **options) -> list[str]:
    names = {link_id: name for name, link_id in corpus.items()}
    async with database.read() as conn:
        page = await repo.search_links(conn, user.id, query, **options)
    return [names[link.id] for link in page.items]


@pytest.mark.parametrize(("query", "expected"), [
    ("김치찌개", {"stew"}),              # inside 김치찌개를
    ("김치", {"stew", "fried"}),         # two syllables, at the start of longer words
    ("찌개", {"stew", "soybean"}),       # in the middle of a word
    ("치", {"stew", "fried", "chicken"}),  # one syllable, anywhere
    ("레시피", {"stew"}),                # in the note
    ("요리", {"stew"}),                  # a tag
    ("파이썬", {"python"}),
    ("김치 레시피", {"stew"}),           # every term must match
    ("react", {"react", "react-old"}),
    ("REACT hooks", {"react", "react-old"}),
    ("hook", {"react", "react-old"}),
    ("python", {"python"}),             # full-width letters in the note, and the URL
    ("ｐｙｔｈｏｎ", {"python"}),
    ("youtube", {"react"}),             # the URL
    ("youtube.com/watch", {"react"}),
    ("example.org", {"soybean", "chicken"}),
    ("useEffect", {"react"}),
    ("없는말", set()),
])
async def test_finds_substrings_in_every_field(database: Database, user: repo.User,
                                               corpus: dict[str, str], query: str,
                                               expected: set[str]) -> None:
    assert set(await found(database, user, corpus, query)) == expected


@pytest.mark.parametrize("query", [
    '"', '"김치', 'react"', "AND (", "NEAR(", "NEAR(react hooks, 2)", "*", "rea*", "-react",
    "react:", "{title}: react", "title:react", "^react", "+", "OR", "NOT react", "\\", "%", "_",
    "' OR 1=1 --", "'; DROP TABLE links; --", "", "   ", "\t\n", "\x00", "a" * 10_000,
    "김치 " * 500, "<->", "!react", "react & hooks", "react | hooks", "react:*", "$1", "?",
])
async def test_query_syntax_is_just_text(database: Database, user: repo.User,
                                         corpus: dict[str, str], query: str) -> None:
    names = await found(database, user, corpus, query)
    assert set(names) <= set(LINKS)


async def test_syntax_characters_around_words_are_ignored(database: Database, user: repo.User,
                                                          corpus: dict[str, str]) -> None:
    assert set(await found(database, user, corpus, '"김치')) == {"stew", "fried"}
    assert set(await found(database, user, corpus, "rea*")) == {"react", "react-old"}
    assert set(await found(database, user, corpus, "(hooks)")) == {"react", "react-old"}
    assert await found(database, user, corpus, "' OR 1=1 --") == []


async def test_title_matches_rank_above_other_fields(database: Database, user: repo.User,
                                                     corpus: dict[str, str]) -> None:
    assert await found(database, user, corpus, "hooks") == ["react", "react-old"]
    assert (await found(database, user, corpus, "김치"))[0] in ("stew", "fried")


async def test_scoped_to_the_user_and_to_live_links(database: Database, user: repo.User,
                                                    make_user: MakeUser,
                                                    corpus: dict[str, str]) -> None:
    other = await make_user()
    async with database.write() as tx:
        theirs, _ = await repo.create_or_get(tx, other.id, "https://x.example/김치", "h",
                                             note="김치찌개 react")
        await repo.delete_link(tx, user.id, corpus["fried"])
    assert set(await found(database, user, corpus, "김치")) == {"stew"}
    async with database.read() as conn:
        mine = await repo.search_links(conn, other.id, "김치찌개")
    assert [link.id for link in mine.items] == [theirs.id]


async def test_edits_are_searchable_at_once(database: Database, user: repo.User,
                                            corpus: dict[str, str]) -> None:
    async with database.write() as tx:
        await repo.update_link(tx, user.id, corpus["chicken"],
                               {"note": "양념 반 후라이드 반", "tags": ["야식"], "title": "Order"})
    assert await found(database, user, corpus, "후라이드") == ["chicken"]
    assert await found(database, user, corpus, "야식") == ["chicken"]
    assert await found(database, user, corpus, "금요일") == []
    assert "chicken" not in await found(database, user, corpus, "치킨")


async def test_pages(database: Database, user: repo.User) -> None:
    async with database.write() as tx:
        for n in range(25):
            await repo.create_or_get(tx, user.id, f"https://example.com/{n}", f"h{n}",
                                     note=f"메모 {n}번 여행")
    seen = []
    async with database.read() as conn:
        for page in (1, 2, 3):
            result = await repo.search_links(conn, user.id, "여행", page=page, limit=10)
            assert result.has_more == (page < 3)
            seen += [link.id for link in result.items]
        assert (await repo.search_links(conn, user.id, "여행", page=4, limit=10)).items == ()
    assert len(seen) == len(set(seen)) == 25


async def test_matches_a_plain_substring_model(database: Database, user: repo.User) -> None:
    """Random Korean/English text and random substrings as queries: the index finds exactly
    the links where every term's words occur in one field's words (joined by spaces)."""
    rng = random.Random(7)
    syllables = "김치찌개된장국밥라면여행사진"
    letters = "abcdehiklmnoprstuy"

    def word() -> str:
        if rng.random() < 0.5:
            return "".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
        return "".join(rng.choice(letters) for _ in range(rng.randint(1, 6)))

    def text(words: int) -> str:
        return rng.choice(" .-/").join(word() for _ in range(words))

    fields: dict[str, list[str]] = {}
    raw: list[str] = []
    async with database.write() as tx:
        for n in range(60):
            title, note, tag = text(rng.randint(1, 4)), text(rng.randint(0, 6)), word()
            link, _ = await repo.create_or_get(tx, user.id, f"https://x.example/{n}/{word()}",
                                               f"h{n}", note=note, tags=[tag])
            await repo.begin_scrape(tx, link.id, run=0)
            await repo.save_scraped(tx, link.id, repo.ScrapedMetadata(title=title), run=0)
            raw += [title, note, link.url]
            fields[link.id] = [textindex.word_text(value) for value in (title, note, tag, link.url)]

    def expected(query: str) -> set[str]:
        terms = [phrase.text for phrase in textindex.compile_query(query)]
        return {link_id for link_id, texts in fields.items()
                if terms and all(any(term in t for t in texts) for term in terms)}

    queries = []
    for _ in range(80):  # substrings of the raw text: "x.y" is one term of two words
        source = rng.choice(raw)
        start = rng.randint(0, max(0, len(source) - 1))
        queries.append(source[start:start + rng.randint(1, 9)])
    queries += [f"{a} {b}" for a, b in zip(queries[::2], queries[1::2], strict=True)][:15]
    hits = 0
    async with database.read() as conn:
        for query in queries:
            page = await repo.search_links(conn, user.id, query, limit=100)
            assert {link.id for link in page.items} == expected(query), query
            hits += bool(page.items)
    assert hits > len(queries) // 2


async def test_a_term_never_spans_two_tags(database: Database, user: repo.User) -> None:
    async with database.write() as tx:
        link, _ = await repo.create_or_get(tx, user.id, "https://x.example", "h",
                                           tags=["react", "hooks"])
    async with database.read() as conn:
        assert (await repo.search_links(conn, user.id, "react.hooks")).items == ()
        assert [found.id for found in (await repo.search_links(conn, user.id, "react hooks")).items
                ] == [link.id]
