"""The FAQ file of the embedded source: schema, checks, and the text normalisation shared by the
index and the caller's words. Pure: it parses text it is given; embedded.py reads the file.

The file format is documented at the top of data/insurer_faq.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

MAX_SPOKEN_WORDS = 30  # about 12 s at espeak-ng's default 175 words per minute
_DIGIT = re.compile(r"\d")
_URL = re.compile(r"https?://|www\.|\.example\b|\.com\b", re.IGNORECASE)
_APOSTROPHE = re.compile(r"['’`]")
_NON_WORD = re.compile(r"[\W_]+")


class FaqError(ValueError):
    """One line per problem, each naming the file and the field."""


@dataclass(frozen=True, slots=True)
class FaqEntry:
    item_id: str
    intent: str
    question: str
    variants: tuple[str, ...]
    keywords: tuple[str, ...]
    answer_spoken: str
    answer_text: str


@dataclass(frozen=True, slots=True)
class FaqBook:
    language: str
    synonyms: Mapping[str, tuple[str, ...]]
    stopwords: frozenset[str]
    entries: tuple[FaqEntry, ...]

    def normalizer(self) -> Normalizer:
        return Normalizer(self.synonyms, self.stopwords)


def words(text: str) -> list[str]:
    """Lower-case word tokens; apostrophes vanish so "won't" and "wont" meet."""
    return [w for w in _NON_WORD.split(_APOSTROPHE.sub("", text.casefold())) if w]


class Normalizer:
    """Maps caller words and FAQ text onto the same vocabulary: each synonym phrase (longest
    first) becomes its canonical word; `terms` also drops stopwords (words that carry no topic
    in a caller's question) and repeats."""

    def __init__(self, synonyms: Mapping[str, Iterable[str]],
                 stopwords: Iterable[str] = ()) -> None:
        self._stopwords = frozenset(w for s in stopwords for w in words(s))
        self._phrases: dict[tuple[str, ...], str] = {}
        for canonical, variants in synonyms.items():
            for phrase in (canonical, *variants):
                key = tuple(words(phrase))
                if key:
                    self._phrases[key] = canonical
        self._longest = max((len(k) for k in self._phrases), default=1)

    def canonical(self, text: str) -> list[str]:
        tokens = words(text)
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for n in range(min(self._longest, len(tokens) - i), 0, -1):
                canonical = self._phrases.get(tuple(tokens[i : i + n]))
                if canonical is not None:
                    out.append(canonical)
                    i += n
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def terms(self, text: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for t in self.canonical(text) if t not in self._stopwords))


def parse_faq(text: str, origin: str) -> FaqBook:
    """Parse and check a FAQ file's text; `origin` names it in error messages."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FaqError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise FaqError(f"{origin}: expected a mapping with 'items'")
    problems: list[str] = []
    synonyms = _synonyms(doc.get("synonyms") or {}, problems)
    entries = _entries(doc.get("items"), problems)
    stopwords = doc.get("stopwords") or ""
    if not isinstance(stopwords, str):
        problems.append("stopwords: expected the words as one text, separated by spaces")
        stopwords = ""
    language = doc.get("language", "en")
    if not isinstance(language, str) or not language:
        problems.append("language: expected a language code such as 'en'")
    if problems:
        raise FaqError("\n".join(f"{origin}: {p}" for p in problems))
    return FaqBook(str(language), synonyms, frozenset(words(stopwords)), entries)


def _synonyms(raw: Any, problems: list[str]) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        problems.append("synonyms: expected a mapping of word to a list of phrases")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    owner: dict[tuple[str, ...], str] = {}
    for canonical, phrases in raw.items():
        if not isinstance(canonical, str) or len(words(canonical)) != 1:
            problems.append(f"synonyms.{canonical}: the canonical form must be one word")
            continue
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            problems.append(f"synonyms.{canonical}: expected a list of phrases")
            continue
        for phrase in (canonical, *phrases):
            key = tuple(words(phrase))
            if key in owner and owner[key] != canonical:
                problems.append(
                    f"synonyms.{canonical}: {phrase!r} already belongs to {owner[key]!r}"
                )
            owner[key] = canonical
        out[canonical] = tuple(phrases)
    return out


def _entries(raw: Any, problems: list[str]) -> tuple[FaqEntry, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append("items: expected a non-empty list")
        return ()
    entries: list[FaqEntry] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        entry = _entry(item, where, problems)
        if entry is None:
            continue
        if entry.item_id in seen:
            problems.append(f"{where}.id: duplicate id {entry.item_id!r}")
        seen.add(entry.item_id)
        entries.append(entry)
    return tuple(entries)


_FIELDS = frozenset(
    {"id", "intent", "question", "variants", "keywords", "answer_spoken", "answer_text"}
)


def _entry(item: dict[str, Any], where: str, problems: list[str]) -> FaqEntry | None:
    before = len(problems)
    problems.extend(f"{where}.{key}: unknown field" for key in sorted(set(item) - _FIELDS))
    texts = {}
    for key in ("id", "intent", "question", "answer_spoken", "answer_text"):
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}.{key}: required text")
        texts[key] = str(value or "").strip()
    lists = {key: _texts(item.get(key, []), f"{where}.{key}", problems)
             for key in ("variants", "keywords")}
    problems.extend(f"{where}.answer_spoken: {p}" for p in spoken_problems(texts["answer_spoken"]))
    if len(problems) > before:
        return None
    return FaqEntry(texts["id"], texts["intent"], texts["question"], lists["variants"],
                    lists["keywords"], texts["answer_spoken"], texts["answer_text"])


def _texts(raw: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        problems.append(f"{where}: expected a list of texts")
        return ()
    return tuple(v.strip() for v in raw)


def spoken_problems(answer: str) -> Sequence[str]:
    """What makes an answer unfit to be spoken: too long, digits, web addresses."""
    problems = []
    count = len(answer.split())
    if count > MAX_SPOKEN_WORDS:
        problems.append(f"{count} words; a spoken answer has at most {MAX_SPOKEN_WORDS}")
    if _DIGIT.search(answer):
        problems.append("has digits; spell numbers as they should be spoken")
    if _URL.search(answer):
        problems.append("has a web address; say where to find it instead")
    return problems


def spoken_phrases(book: FaqBook) -> tuple[str, ...]:
    """How callers put the book's questions (question and variants): a recognizer's
    vocabulary for free-form questions."""
    return tuple(dict.fromkeys(text for entry in book.entries
                               for text in (entry.question, *entry.variants)))
