"""Word lists for tagging: stop-words, Korean particles, language names and content kinds."""

from __future__ import annotations

__all__ = [
    "KIND_NAMES",
    "LANGUAGE_NAMES",
    "PARTICLES",
    "PARTICLE_EXCEPTIONS",
    "STOP_WORDS",
    "TITLE_FILLER",
    "UNCOUNTABLE",
    "VERBAL_ENDINGS",
]

_ENGLISH = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further get gets got had has have having he her here hers him his how i if in into is it its
itself just like me more most my no nor not now of off on once only or other our ours out over
own same she should so some such than that the their theirs them then there these they this
those through to too under until up very was we were what when where which while who whom why
will with would you your yours yourself vs via here's it's you're don't can't what's
""".split()

_GERMAN = """
der die das den dem des ein eine einer eines einem einen und oder aber doch ist sind war waren
wird werden wurde hat haben hatte im in ins am an auf aus bei mit nach von vom zu zum zur für
über unter vor durch gegen ohne um als wie wenn dass ob sich nicht auch noch nur schon mehr
sehr so es er sie wir ihr ich du man was wer wo hier dort alle kann können beim bis
""".split()

_FRENCH = """
le la les l un une des du de d et ou mais est sont été être a ont au aux pour par sur sous dans
avec sans ce cet cette ces qui que quoi ne pas plus se sa son ses il elle ils elles nous vous on
comme tout tous très
""".split()

_SPANISH = """
el la los las un una unos unas y o pero es son fue ser en por para con sin de del al lo que se
su sus como más muy no ya este esta estos estas
""".split()

_KOREAN = """
것 수 등 및 또는 그리고 하지만 그러나 그래서 때문 때문에 위한 위해 대한 대해 통한 통해 관한 같은
이런 그런 저런 어떤 모든 각 더 가장 정말 진짜 너무 아주 매우 잘 함께 다시 이제 우리 나의 내 제 저
그 이 저의 있는 없는 하는 되는 있다 없다 한다 된다 했다 하기 보기 여기
""".split()

STOP_WORDS: frozenset[str] = frozenset(_ENGLISH + _GERMAN + _FRENCH + _SPANISH + _KOREAN)

# Words that fill titles without naming a topic; fine as a tag someone chose, never picked
# out of a title.
TITLE_FILLER: frozenset[str] = frozenset("""
new best top how-to ways things make makes made use using used one two three first last next
year years day days week time times today says said shows show need needs never knew want
wanted know way back good great big little really still even ever many much
neu neue neuen neues viel viele lange gibt geht heute jetzt immer zwei drei ersten erste
mal wieder gut ganz warum welche diese dieser dieses uhr
nouveau nouvelle comment pourquoi nuevo nueva cómo porqué
방법 이유 경우 정리 총정리 모음 소개 이야기 오늘 지금 바로 이번 다음 추천 후기
""".split())

# Korean particles (josa), longest first, each with the final-consonant rule of the syllable
# before it: True = after a consonant (받침), False = after a vowel, None = after either.
PARTICLES: tuple[tuple[str, bool | None], ...] = (
    ("에서는", None), ("에게서", None), ("으로는", True), ("이라는", True), ("에서", None),
    ("에게", None), ("으로", True), ("까지", None), ("부터", None), ("처럼", None),
    ("보다", None), ("이나", True), ("라는", False), ("로는", False), ("에는", None),
    ("은", True), ("는", False), ("이", True), ("가", False), ("을", True), ("를", False),
    ("의", None), ("에", None), ("로", False), ("와", False), ("과", True), ("도", None),
    ("만", None),
)

# Nouns that end in what looks like a particle; never stripped.
PARTICLE_EXCEPTIONS: frozenset[str] = frozenset(
    "고양이 원숭이 어린이 놀이 갈매기 송아지 강아지 이야기 아이 오이 거북이 다람쥐".split())

# Endings of Korean verb and adjective forms; a word ending in one is not a tag.
VERBAL_ENDINGS: tuple[str, ...] = (
    "하는", "되는", "있는", "없는", "이는", "하게", "있게", "없게", "하기", "하고", "해서",
    "하면", "니다", "세요", "어요", "아요", "해요", "했다", "한다", "된다", "는다", "었다",
    "았다", "였다", "려면", "는데", "지만", "면서",
)

# English words ending in "s" that are not plurals of a word without it.
UNCOUNTABLE: frozenset[str] = frozenset("""
news series species analytics physics mathematics economics politics ethics linguistics
statistics robotics graphics electronics athletics gymnastics lens kubernetes ios macos
windows chaos canvas atlas status corpus bias alias always perhaps thanks jeans pants glasses
""".split())

LANGUAGE_NAMES: dict[str, str] = {
    "ko": "Korean", "en": "English", "de": "German", "fr": "French", "es": "Spanish",
    "ja": "Japanese", "zh": "Chinese", "pt": "Portuguese", "pl": "Polish", "ru": "Russian",
    "it": "Italian", "nl": "Dutch", "ar": "Arabic", "tr": "Turkish", "vi": "Vietnamese",
    "id": "Indonesian", "th": "Thai", "hi": "Hindi", "uk": "Ukrainian", "sv": "Swedish",
}

# The extractor's media kind → the type tag, in English and Korean. "website" says nothing
# about the content and gives no tag.
KIND_NAMES: dict[str, tuple[str, str]] = {
    "article": ("article", "글"),
    "video": ("video", "동영상"),
    "audio": ("audio", "오디오"),
    "image": ("image", "이미지"),
    "product": ("product", "상품"),
    "book": ("book", "책"),
    "event": ("event", "행사"),
    "profile": ("profile", "프로필"),
    "file": ("file", "파일"),
}
