"""The embedded knowledge source: the bundled FAQ file, indexed in an in-memory SQLite FTS5 table.

Retrieval is FTS5 (porter stemming, bm25 for order); the score that `ranking.choose` compares is
the share of the caller's informative words an item explains, each word weighted by its BM25 idf:

    score(item) = sum(credit(w, item) * idf(w)) / sum(weight(w))    over the query's terms w

credit is 1 when w is in the item's question, variants or keywords, 0.5 when only in its
answers; an unknown word (in no item) weighs UNKNOWN_WEIGHT of the rarest word's idf, so a
question about something the FAQ never mentions scores low. Raw bm25 values are not comparable
across queries, which a fixed `min_score` needs; bm25 only orders items of equal score. When
the IVR passes its intent, items of that intent get INTENT_BONUS (then rescaled into [0, 1]):
enough to order a tie, too little to hide it from `ranking.choose`.

SQLite runs on one worker thread of its own (the connection never changes threads); the event
loop only awaits it, under the search deadline.
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any, Self, TypeVar

from knowledge_client.faq import FaqBook, FaqEntry, FaqError, parse_faq
from knowledge_client.model import Feedback, Item, Query, SearchResult, Unanswered
from knowledge_client.port import KnowledgeConfigError, KnowledgeUnavailable

DEFAULT_FAQ = Path(__file__).parent / "data" / "insurer_faq.yaml"
SOURCE_NAME = "embedded"
ANSWER_CREDIT = 0.5
UNKNOWN_WEIGHT = 0.6
INTENT_BONUS = 0.05
MAX_TERMS = 24  # a long ramble is truncated, not scanned word by word
_BM25_WEIGHTS = "10.0, 5.0, 1.0"  # question+variants, keywords, answers

T = TypeVar("T")


class FtsIndex:
    """The FAQ in an FTS5 table. Not thread-safe: use it from one thread."""

    def __init__(self, book: FaqBook) -> None:
        self.book = book
        self.normalizer = book.normalizer()
        self._db = sqlite3.connect(":memory:")
        self._db.execute(
            "CREATE VIRTUAL TABLE faq USING fts5("
            "question, keywords, answer, tokenize = 'porter unicode61')"
        )
        rows = [(rowid, *self._columns(entry)) for rowid, entry in enumerate(book.entries)]
        self._db.executemany(
            "INSERT INTO faq(rowid, question, keywords, answer) VALUES (?, ?, ?, ?)", rows
        )
        self._db.commit()
        self._n = len(book.entries)
        self._max_idf = _idf(self._n, 1)

    def _columns(self, entry: FaqEntry) -> tuple[str, str, str]:
        canon = self.normalizer.canonical
        question = " . ".join(" ".join(canon(t)) for t in (entry.question, *entry.variants))
        keywords = " ".join(" ".join(canon(k)) for k in entry.keywords)
        answer = " ".join(canon(entry.answer_spoken + " " + entry.answer_text))
        return question, keywords, answer

    def close(self) -> None:
        self._db.close()

    def search(self, text: str, intent: str | None, limit: int) -> list[tuple[FaqEntry, float]]:
        terms = self.normalizer.terms(text)[:MAX_TERMS]
        if not terms:
            return []
        gained: dict[int, float] = {}
        total = 0.0
        for term in terms:
            strong = self._rows(f'{{question keywords}} : "{term}"')
            weak = self._rows(f'answer : "{term}"') - strong
            df = len(strong | weak)
            weight = _idf(self._n, df) if df else UNKNOWN_WEIGHT * self._max_idf
            total += weight
            for rowid in strong:
                gained[rowid] = gained.get(rowid, 0.0) + weight
            for rowid in weak:
                gained[rowid] = gained.get(rowid, 0.0) + ANSWER_CREDIT * weight
        if not gained:
            return []
        order = self._bm25_order(terms)
        scored = []
        for rowid, gain in gained.items():
            entry = self.book.entries[rowid]
            score = gain / total
            if intent is not None:  # rescaled so a full match of the hinted intent stays 1.0
                score = (score + (INTENT_BONUS if entry.intent == intent else 0.0)) / (
                    1.0 + INTENT_BONUS
                )
            scored.append((score, -order.get(rowid, len(order)), rowid))
        scored.sort(reverse=True)
        return [(self.book.entries[rowid], round(score, 4)) for score, _, rowid in scored[:limit]]

    def _rows(self, match: str) -> set[int]:
        return {r for (r,) in self._db.execute("SELECT rowid FROM faq WHERE faq MATCH ?", (match,))}

    def _bm25_order(self, terms: Sequence[str]) -> dict[int, int]:
        match = " OR ".join(f'"{t}"' for t in terms)
        sql = f"SELECT rowid FROM faq WHERE faq MATCH ? ORDER BY bm25(faq, {_BM25_WEIGHTS})"
        rows = self._db.execute(sql, (match,))
        return {rowid: position for position, (rowid,) in enumerate(rows)}


def _idf(n: int, df: int) -> float:
    """BM25's (Robertson-Sparck Jones) idf, always positive."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def load_book(path: Path) -> FaqBook:
    """Read and check a FAQ file; KnowledgeConfigError names the file and every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeConfigError(f"{path}: cannot read the FAQ file: {exc.strerror}") from exc
    try:
        return parse_faq(text, str(path))
    except FaqError as exc:
        raise KnowledgeConfigError(str(exc)) from exc


class EmbeddedKnowledge:
    """KnowledgeSource over the bundled FAQ: `async with EmbeddedKnowledge(path) as kb:` reads
    the file and builds the index on the source's own thread (KnowledgeConfigError when the file
    is unreadable or invalid).

    Feedback and unanswered questions are kept in `feedback_log` / `unanswered_log` and, with
    `record_path`, appended to that file as JSON lines (for the knowledge editors).
    """

    def __init__(self, path: Path = DEFAULT_FAQ, *, deadline_s: float = 0.8,
                 record_path: Path | None = None) -> None:
        self.path = path
        self.deadline_s = deadline_s
        self.record_path = record_path
        self.feedback_log: list[Feedback] = []
        self.unanswered_log: list[Unanswered] = []
        self._index: FtsIndex | None = None
        self._base: FaqBook | None = None  # the file's book, before the editors' changes
        self._executor: ThreadPoolExecutor | None = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="knowledge-fts")
        try:
            # Reading and indexing about a hundred items takes milliseconds; a minute means a
            # hung file system, and startup should say so rather than wait forever.
            self._index = await self._run(lambda: FtsIndex(load_book(self.path)), limit_s=60.0)
            self._base = self._index.book
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        executor, index = self._executor, self._index
        self._executor = self._index = None
        if executor is None:
            return
        if index is not None:
            executor.submit(index.close)
        executor.shutdown(wait=False)

    @property
    def book(self) -> FaqBook:
        if self._index is None:
            raise RuntimeError("EmbeddedKnowledge is not started")
        return self._index.book

    async def reindex(self, edit: Callable[[FaqBook], FaqBook],
                      commit: Callable[[], Awaitable[None]] | None = None) -> FaqBook:
        """Answer from `edit(the file's book)` from now on (the knowledge editors' additions):
        the new index is built on the source's thread, then `commit` runs (e.g. saving the
        change), and only if it succeeds does the new index replace the old one."""
        if self._base is None:
            raise KnowledgeUnavailable("the embedded source is not started")
        base = self._base
        index = await self._run(lambda: FtsIndex(edit(base)), limit_s=60.0)
        try:
            if commit is not None:
                await commit()
        except BaseException:
            await self._run(index.close, limit_s=5.0)
            raise
        old, self._index = self._index, index
        if old is not None:
            await self._run(old.close, limit_s=5.0)
        return index.book

    async def search(self, query: Query, *, limit: int = 3) -> SearchResult:
        index = self._index
        if index is None:
            raise KnowledgeUnavailable("the embedded source is not started")
        started = time.perf_counter()
        found = await self._run(
            lambda: index.search(query.text, query.intent, limit), limit_s=self.deadline_s
        )
        items = tuple(_item(entry, score) for entry, score in found)
        return SearchResult(items, took_ms=(time.perf_counter() - started) * 1000.0)

    async def feedback(self, fb: Feedback) -> None:
        self.feedback_log.append(fb)
        await self._record("feedback", asdict(fb))

    async def report_unanswered(self, u: Unanswered) -> None:
        self.unanswered_log.append(u)
        await self._record("unanswered", asdict(u))

    async def _record(self, kind: str, payload: dict[str, Any]) -> None:
        path = self.record_path
        if path is None:
            return
        line = json.dumps({"kind": kind, **payload}, default=str, ensure_ascii=False) + "\n"

        def append() -> None:
            with path.open("a", encoding="utf-8") as f:
                f.write(line)

        await self._run(append, limit_s=5.0)

    async def _run(self, fn: Callable[[], T], *, limit_s: float) -> T:
        executor = self._executor
        if executor is None:
            raise KnowledgeUnavailable("the embedded source is not started")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(limit_s):
                return await loop.run_in_executor(executor, fn)
        except TimeoutError as exc:
            raise KnowledgeUnavailable(f"embedded source took over {limit_s:.2f} s") from exc
        except (sqlite3.Error, OSError) as exc:
            raise KnowledgeUnavailable(f"embedded source failed: {exc}") from exc


def _item(entry: FaqEntry, score: float) -> Item:
    return Item(entry.item_id, entry.question, entry.answer_spoken, entry.answer_text, score,
                SOURCE_NAME)
