"""Hand-written pages for the scraping tests, each exercising one metadata source."""

from __future__ import annotations

OPEN_GRAPH = """<!doctype html><html><head>
<meta property="og:title" content="Open Graph Title">
<meta property="og:description" content="Described by &amp; for Open Graph.">
<meta property="og:image" content="https://cdn.example.com/og.jpg">
<meta property="og:site_name" content="Example Site">
<meta property="og:type" content="article">
<meta property="og:locale" content="en_GB">
<meta property="article:published_time" content="2024-03-05T10:20:30+01:00">
<meta property="article:tag" content="Python"><meta property="article:tag" content="Async">
</head><body><p>Body.</p></body></html>"""

TWITTER = """<html><head>
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="Twitter Card Title">
<meta name="twitter:description" content="Described for Twitter.">
<meta name="twitter:image" content="/img/tw.png">
</head><body></body></html>"""

JSONLD = """<html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "JSON-LD Headline", "description": "Described in JSON-LD.",
 "image": [{"@type": "ImageObject", "url": "https://cdn.example.com/ld.jpg"}],
 "author": [{"@type": "Person", "name": "Ada Lovelace"}, {"@type": "Person", "name": "Alan Turing"}],
 "publisher": {"@type": "Organization", "name": "LD News",
               "logo": {"@type": "ImageObject", "url": "/logo.png"}},
 "datePublished": "2023-11-17T08:00:00Z", "inLanguage": "de-DE",
 "keywords": ["science", "history"]}
</script></head><body></body></html>"""

JSONLD_GRAPH = """<html><head><script type="application/ld+json">
<!--
{"@context": "https://schema.org", "@graph": [
  {"@type": "WebSite", "@id": "https://example.org/#site", "name": "Graph Site"},
  {"@type": "Person", "@id": "https://example.org/#grace", "name": "Grace Hopper"},
  {"@type": "WebPage", "@id": "https://example.org/post#page", "name": "Page name"},
  {"@type": "BlogPosting", "headline": "Graph Headline", "author": {"@id": "https://example.org/#grace"},
   "publisher": {"@id": "https://example.org/#site"}, "datePublished": "2022-02-03",},
]}
-->
</script></head><body></body></html>"""

MICRODATA = """<html><head><title>Ignored | Micro Blog</title></head><body>
<article itemscope itemtype="https://schema.org/BlogPosting">
  <h1 itemprop="headline">Microdata Headline</h1>
  <span itemprop="author" itemscope itemtype="https://schema.org/Person">
    by <span itemprop="name">Katherine Johnson</span></span>
  <time itemprop="datePublished" datetime="2021-07-20">July 20</time>
  <img itemprop="image" src="pics/moon.jpg" width="800" height="600">
  <p itemprop="description">A description from microdata.</p>
</article></body></html>"""

PLAIN = """<html><head><title>  Just   a &quot;plain&quot; title  </title></head>
<body><h1>Heading</h1><nav><p>Home About Contact and a lot more navigation text that is long
enough to look like a paragraph but sits in the navigation.</p></nav>
<p>The first real paragraph of this page is long enough to serve as its description when
nothing else describes the page.</p></body></html>"""

KOREAN = """<html><head><meta charset="euc-kr"><title>한국어 기사 제목 - 예제 신문</title>
<meta property="og:site_name" content="예제 신문"></head>
<body><h1>한국어 기사 제목</h1><p>똠방각하와 함께하는 서울의 봄. 이 문장은 한국어로 쓰였으며 EUC-KR 또는
CP949로 인코딩되어 있습니다. 충분히 긴 한국어 본문이 있어야 언어와 문자 인코딩을 알아낼 수
있습니다. 홍길동 기자가 작성했습니다.</p></body></html>"""

RELATIVE = """<html><head><base href="https://static.example.net/assets/">
<meta property="og:image" content="../images/card.png">
<link rel="icon" href="/favicon.ico"><link rel="apple-touch-icon" href="touch.png">
<link rel="canonical" href="/articles/42">
<title>Relative URLs</title></head><body></body></html>"""

VIDEO = """<html><head>
<meta property="og:type" content="video.other">
<meta property="og:title" content="A Video">
<meta property="og:video" content="https://video.example.com/v.mp4">
<meta property="og:image" content="https://video.example.com/poster.jpg">
</head><body></body></html>"""

CHALLENGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><div id="challenge-form"></div>
<script>(function(){window._cf_chl_opt={cvId: '3', cZone: 'example.com'};})();</script>
</body></html>"""
