"""The crawl's write path: one writable connection, one transaction per batch.

:class:`ArchiveWriter` is the only code that writes to an archive. A crawl opens one (the
``ArchiveKeeper`` extension does, once per crawl) and everything that writes reaches it:
the store pipeline's batches of cards and article bodies, the captures of the responses
those came from (queued, then written in the same transaction as their cards), and the
crawl's own row. Any failed write rolls back its batch and raises
:class:`~olyscrape.archive.errors.ArchiveWriteError`; after that the writer refuses to
write again, so a crawl can never report what it did not commit.

The archive file is created (and migrated) at the first write, not at open: a crawl that
stops before storing anything, a mistyped partner say, leaves no file behind.

What a batch changes is worked out by :class:`~olyscrape.archive.batch.Batch`; what a crawl
reads of the archive it writes (earlier links, the pages still wanted, counts) is
:class:`~olyscrape.archive.lookups.ArchiveLookups`, on this writer's connection
(``writer.lookups``): the writer itself only writes.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from olyscrape.archive import health, migrations, room, schema, walowner
from olyscrape.archive.batch import Batch, StoreResult, many
from olyscrape.archive.captures import Capture, CaptureStore
from olyscrape.archive.errors import ArchiveError, ArchiveWriteError, write_error
from olyscrape.archive.lookups import ArchiveLookups
from olyscrape.archive.paths import sqlite_uri
from olyscrape.archive.text import on_bad_text_leniently
from olyscrape.archive.walks import WalkLinks, shift_unreached
from olyscrape.items import ArticleCard, ArticlePageFailed, ArticlePageItem, Partner, WalkDone

#: An article page that could not be stored: one more crawl in a row that failed to get it
#: (the spider asks for a page once a crawl, so a crawl counts once, retries included).
_FAIL_PAGE = """
UPDATE articles SET page_failures = coalesce(page_failures, 0) + 1, page_error = :reason,
    page_tried = :seen
WHERE url = :url
"""

_UPSERT_PARTNER = """
INSERT INTO partners (slug, name, url, walk_started) VALUES (:slug, :name, :url, :started)
ON CONFLICT (slug) DO UPDATE SET
    name = excluded.name, url = excluded.url,
    walk_started = COALESCE(excluded.walk_started, walk_started)
"""

_SESSION = "SELECT token, commits, history FROM writer_session WHERE id = 1"

_FINISH_CRAWL = "UPDATE crawls SET finished_at = ?, status = ?, stats = ?, reasons = ? WHERE id = ?"

_COMPLETE_WALK = "UPDATE partners SET walk_completed = :seen WHERE slug = :partner"
#: A complete walk's record (``walks``): it started when its partner's ``walk_started`` says.
_RECORD_WALK = """INSERT INTO walks (crawl_id, partner, started, completed, kind)
    SELECT :crawl_id, slug, walk_started, :seen, :kind FROM partners
    WHERE slug = :partner AND walk_started IS NOT NULL"""

Item = ArticleCard | ArticlePageItem | ArticlePageFailed | Partner | WalkDone


def walk_kind(walk: WalkDone) -> str:
    """A complete walk's kind in ``walks``: ``incremental`` (stopped at cards archived
    before), ``full`` (to the listing's own end) or ``cut`` (ended complete at a paging
    cycle or a next page elsewhere: see :class:`WalkDone`)."""
    if walk.incremental:
        return "incremental"
    return "full" if walk.whole else "cut"


def utcnow() -> str:
    """Now, as the archive writes times: UTC ISO-8601 to the second, with a ``Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ArchiveWriter:
    """The one writable connection of a crawl (or a re-parse) to the archive at ``path``.

    ``record_crawl`` makes the first committed batch open a ``crawls`` row, which
    :meth:`finish_crawl` closes. ``max_page_count`` caps the file's size, in pages: a test
    uses it to make a full disk where it cannot mount one.
    """

    def __init__(
        self, path: str | Path, *, record_crawl: bool = True, max_page_count: int = 0
    ) -> None:
        self.path = Path(path)
        self.record_crawl = record_crawl
        self.max_page_count = max_page_count
        self.conn: sqlite3.Connection | None = None
        self.captures = CaptureStore(None)
        #: What a crawl asks of the archive, read on this connection (see lookups).
        self.lookups = ArchiveLookups(lambda: self.conn, self._failed)
        self.crawl_id: int | None = None
        self.crawl_first_id: int | None = None
        self.failure: ArchiveWriteError | None = None
        self._queued: list[Capture] = []
        self._queued_bytes = 0
        self._next_capture_id = 1
        #: Per partner, the links this crawl met until its walk ends (see WalkLinks).
        self._walks: dict[str, WalkLinks] = {}
        #: Whether this session has marked the archive (its first commit does).
        self._marked = False
        #: The checkpoint that completed one a reader left unfinished (at open), and the
        #: closing one (``None`` until closed, or when nothing was ever opened).
        self.opening_checkpoint: health.Checkpoint | None = None
        self.closing_checkpoint: health.Checkpoint | None = None
        #: What vouched for the file when it opened: a full check, or its being as a full
        #: check left it (``health.UNCHANGED``), or nothing to check (a new file). None:
        #: a quick check only. Then, once closed cleanly, the fingerprint to skip the next
        #: check with (``checked_fingerprint``; see :mod:`~olyscrape.archive.health`).
        self.vouched: str | None = "new"
        #: The check run at open (``health.check_before_write``'s answer; None: a new file).
        self.check_ran: str | None = None
        self.checked_fingerprint: str | None = None

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        create: bool = True,
        check: str = "full",
        checked: str | None = None,
        **options: Any,
    ) -> ArchiveWriter:
        """Check that ``path`` can hold our archive and is sound (SQLite's ``check``, see
        :func:`~olyscrape.archive.health.check_before_write`; not when its fingerprint is
        ``checked``, what the last writer that checked it left), and connect to it if it
        exists.

        Raises :class:`ArchiveError` for a path that cannot be written or an older archive
        on a disk without the room its migration needs (:mod:`~olyscrape.archive.room`), and
        :class:`~olyscrape.archive.errors.ArchiveRefused` for a file that is not ours;
        either way nothing was written. ``create=False`` refuses a missing or empty file.
        """
        identity = schema.check_for_writing(path)
        if identity.empty and not create:
            what = "no such file" if not identity.exists else "an empty file, not an archive"
            raise ArchiveError(f"archive {path}: {what}")
        if identity.needs_migration and not identity.empty:  # refused before it starts
            room.check(path, identity.version)
        ran = None
        if not identity.empty:  # before any writable connection, which could checkpoint
            ran = health.check_before_write(path, check, checked)
        writer = cls(path, **options)
        writer.check_ran = ran
        if ran is not None:
            writer.vouched = ran if ran != "quick_check" else None
        if not identity.empty:
            writer._connect(migrate=identity.needs_migration)
        return writer

    # --- the connection -----------------------------------------------------------------

    def _connect(self, migrate: bool = True) -> sqlite3.Connection:
        """Open the connection (creating the file and its folder), migrating if behind."""
        if self.conn is not None:
            return self.conn
        conn = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The path as a path, never read as a URI (see olyscrape.archive.paths).
            conn = sqlite3.connect(sqlite_uri(self.path), uri=True, timeout=30,
                                   isolation_level=None)  # fmt: skip
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")
            # In WAL mode, NORMAL survives a killed process (only an OS crash may lose the
            # last commits) and spares an fsync per transaction.
            conn.execute("PRAGMA synchronous = NORMAL")
            # Checkpoint (and fsync) every ~40 MB of WAL rather than every 4 MB: a crawl
            # writes in bursts, and the WAL is checkpointed and removed when it closes.
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            if self.max_page_count:
                conn.execute(f"PRAGMA max_page_count = {int(self.max_page_count)}")
            if not health.wal_state(self.path).empty:  # a checkpoint a reader kept unfinished
                self.opening_checkpoint = health.checkpoint(conn, self.path)
            if migrate:
                migrations.migrate(conn)
        except (sqlite3.Error, OSError) as exc:
            if conn is not None:  # closed now: a failed migration's journal goes with it
                with suppress(sqlite3.Error):
                    conn.close()
            raise self._failed(exc) from None
        self.conn = conn
        self.captures = CaptureStore(conn)
        self._next_capture_id = max(self._next_capture_id, self.captures.next_id())
        return conn

    def _mark_session(self, conn: sqlite3.Connection) -> None:
        """Mark the archive as this writer session's (see ``walowner.wal_owner``), inside
        the session's first transaction: a new random token, the stamp it starts from kept
        in its history, so that every commit's -wal frames carry the mark and the history
        tells this session's -wal from another copy's. Not when the writer opens: a run
        that writes nothing (a crawl refused for an unknown partner) changed the archive's
        bytes by its mark alone."""
        row = conn.execute(_SESSION).fetchone()
        history: list[tuple[str, int]] = []
        if row is not None and row[0]:
            history = [(str(row[0]), int(row[1] or 0)), *walowner.history_of(row[2])]
        conn.execute(schema.OPEN_SESSION, {
            "token": secrets.token_hex(16), "opened_at": utcnow(),
            "history": json.dumps(history[: schema.SESSION_HISTORY])})  # fmt: skip

    def _failed(self, exc: BaseException) -> ArchiveWriteError:
        self.failure = exc if isinstance(exc, ArchiveWriteError) else write_error(self.path, exc)
        return self.failure

    @contextmanager
    def _transaction(self, retry: bool = False) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; any error rolls back and becomes the writer's
        failure (an :class:`ArchiveWriteError`), after which it writes nothing more, unless
        told to ``retry`` (the crawl's own row is worth a last try)."""
        if self.failure is not None and not retry:
            raise self.failure
        conn = self._connect()
        crawl_id = self.crawl_id  # a crawl row opened in a transaction rolled back is gone
        try:
            conn.execute("BEGIN IMMEDIATE")
            if not self._marked:
                self._mark_session(conn)
            conn.execute(schema.BUMP_COMMITS)  # so this commit's -wal frames carry our mark
            yield conn
            conn.execute("COMMIT")
            self._marked = True
        except BaseException as exc:
            if conn.in_transaction:
                with suppress(sqlite3.Error):  # SQLite may have rolled back already
                    conn.execute("ROLLBACK")
            self.crawl_id = crawl_id
            if isinstance(exc, (sqlite3.Error, OSError)):
                raise self._failed(exc) from None
            raise  # a bug, not the disk: rolled back all the same

    def close(self) -> None:
        """Copy the WAL into the file (so the ``.db`` alone holds every commit), then close.
        A reader of an older snapshot can keep the copy from finishing: ``closing_checkpoint``
        says so, and the next writer completes it when it opens."""
        if self.conn is not None:
            try:
                self.closing_checkpoint = health.checkpoint(self.conn, self.path)
                self.conn.close()
            finally:
                self.conn = None
                self.captures = CaptureStore(None)
            clean = self.failure is None and self.closing_checkpoint.complete
            if clean and self.vouched is not None and health.wal_state(self.path).bytes == 0:
                self.checked_fingerprint = health.settled_fingerprint(self.path)

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def exists(self) -> bool:
        """True once the archive file holds our schema (opened or created)."""
        return self.conn is not None

    # --- captures: queued, then written with the next batch -------------------------------

    def queue_capture(self, capture: Capture) -> int:
        """Give ``capture`` its id and keep it for the next batch's transaction."""
        capture.id = self._next_capture_id
        capture.fetched_at = capture.fetched_at or utcnow()
        self._next_capture_id += 1
        self._queued.append(capture)
        self._queued_bytes += len(capture.body)
        return capture.id

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    def discard_queued(self) -> None:
        self._queued, self._queued_bytes = [], 0

    # --- the crawl's row ---------------------------------------------------------------

    def _begin_crawl(self, conn: sqlite3.Connection) -> None:
        """Inside the first batch's transaction: mark crawls still ``running`` (dead ones;
        the writer holds the archive's lock) ``interrupted``, and open this crawl's row."""
        if not self.record_crawl or self.crawl_id is not None:
            return
        conn.execute("UPDATE crawls SET status = 'interrupted' WHERE status = 'running'")
        cursor = conn.execute(
            "INSERT INTO crawls (started_at, status) VALUES (?, 'running')", [utcnow()]
        )
        self.crawl_id = int(cursor.lastrowid or 0)
        # The first number this crawl gives an article: those below it an earlier one stored.
        self.crawl_first_id = conn.execute(
            "SELECT coalesce(max(id), 0) + 1 FROM articles"
        ).fetchone()[0]

    def finish_crawl(
        self, status: str, stats: dict[str, Any], reasons: Sequence[str] = (), retry: bool = False
    ) -> None:
        """Close the crawl's row (opening it first if no batch did): status, stats (JSON)
        and, for a crawl that did not succeed, its reasons. ``retry`` tries even after a
        failed write."""
        with self._transaction(retry=retry) as conn:
            self._begin_crawl(conn)
            conn.execute(
                _FINISH_CRAWL,
                [utcnow(), status, json.dumps(stats, default=str, sort_keys=True),
                 json.dumps(list(reasons)) if reasons else None, self.crawl_id],
            )  # fmt: skip

    # --- batches -----------------------------------------------------------------------

    def store(
        self, items: Sequence[Item], *, seen_at: str | None = None, touch_seen: bool = True
    ) -> StoreResult:
        """Write a batch in one transaction: the queued captures, then partners, cards,
        article bodies and completed walks, in that order.

        A true upsert: existing rows are updated in place (``first_seen`` kept, empty
        values never overwrite archived ones), never deleted and re-inserted. When a
        title, category, published date or body changes, the previous values go to
        ``article_versions`` first. ``touch_seen=False`` (a re-parse) leaves ``last_seen``
        and the partners' walks as they were.
        """
        seen = seen_at or utcnow()
        partners = [
            {"slug": i.slug, "name": i.name, "url": i.url, "started": seen if touch_seen else None}
            for i in items
            if isinstance(i, Partner)
        ]
        cards = [i for i in items if isinstance(i, ArticleCard) and i.url]
        bodies = [i for i in items if isinstance(i, ArticlePageItem)]
        # A re-parse walks nothing on the site.
        done = [i for i in items if isinstance(i, WalkDone)] if touch_seen else []
        walks = [{"partner": i.partner, "seen": seen, "kind": walk_kind(i)} for i in done]
        # A re-parse asks the site for nothing: no page of it failed to come.
        failed = {
            i.url: {"url": i.url, "reason": i.reason, "seen": seen}
            for i in items
            if isinstance(i, ArticlePageFailed) and touch_seen
        }
        queued = self._queued
        with self._transaction() as conn:
            self._begin_crawl(conn)
            for capture in queued:
                self.captures.insert(capture, self.crawl_id)
            many(conn, _UPSERT_PARTNER, partners)
            result = self._write_articles(conn, cards, bodies, seen, touch_seen)
            many(conn, _FAIL_PAGE, list(failed.values()))
            shift_unreached(conn, self._walks, done)
            many(conn, _RECORD_WALK, [w | {"crawl_id": self.crawl_id} for w in walks])
            many(conn, _COMPLETE_WALK, walks)  # last: after the walk's cards and pages
        result.captures = len(queued)
        result.page_failures = len(failed)
        self.discard_queued()
        return result

    def _write_articles(
        self,
        conn: sqlite3.Connection,
        cards: list[ArticleCard],
        bodies: list[ArticlePageItem],
        seen: str,
        touch_seen: bool,
    ) -> StoreResult:
        """Insert what is new, upsert what changed, only touch (``last_seen``, the capture)
        what did not, a statement per page; index the new articles for full-text search
        at once."""
        indexed_up_to = conn.execute(schema.INDEXED_UP_TO).fetchone()[0]
        walks = self._walks if touch_seen else None
        batch = Batch(conn, seen, touch_seen, walks, self.crawl_id, self.crawl_first_id)
        # A cell that is not UTF-8 costs its bytes only (read again, decoded leniently).
        on_bad_text_leniently(conn, lambda: batch.read_archived(cards, bodies))
        for card in cards:
            batch.add_card(card)
        for body in bodies:
            batch.add_body(body)
        batch.write(self.crawl_id)
        conn.execute(schema.INDEX_NEW_ROWS, {"after": indexed_up_to})
        return batch.result
