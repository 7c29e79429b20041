"""A link's ``position`` is the card's place on its partner's listing as a full walk
numbers it (1 = newest), however the archive was grown: an incremental walk stops at the
first page holding a card archived before, so the older cards it did not reach are moved
down by as many places as the known cards it saw moved (issue 18: new cards took 1..k
while the older ones kept their numbers, duplicating positions).

The writer's tests walk a listing written here; the slow ones crawl a copy of the saved
site missing omega's 8 newest cards, then the saved site itself (incrementally, or killed
and rerun), and compare the archive with a clean crawl's, field by field."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from olyscrape.archive import ArchiveWriter
from olyscrape.items import ArticleCard, Partner, WalkDone
from olyscrape.testing import sitegen as generator
from olyscrape.testing.mirror import Fault, serve_in_thread
from tests.helpers import (
    EXPECTED_PER_PARTNER,
    SITE,
    archive_fields,
    count,
    crawl_process,
    query,
    run_olyscrape,
    site_without_newest,
    stop_when,
)

NEWS = "https://olympics.com/ioc/news/"
OLDER = [NEWS + f"c{n}" for n in range(1, 11)]  # a listing of ten cards, newest first
NEW = [NEWS + f"n{n}" for n in range(1, 4)]


def walk(
    db: Path,
    listing: Sequence[str],
    reached: int,
    *,
    incremental: bool = True,
    complete: bool = True,
    partner: str = "alibaba",
) -> None:
    """One crawl's walk of ``partner``'s ``listing``: its first ``reached`` cards, two per
    batch (the writer meets a walk's cards across batches), then, for a ``complete`` walk,
    its WalkDone in a batch of its own."""
    items: list[Partner | ArticleCard] = [Partner(partner, partner.title(), NEWS + partner)]
    items += [ArticleCard(url=url, title=url[-3:], partner=partner, position=place)
              for place, url in enumerate(listing[:reached], start=1)]  # fmt: skip
    with ArchiveWriter.open(db, record_crawl=False) as writer:
        for start in range(0, len(items), 2):
            writer.store(items[start : start + 2])
        if complete:
            writer.store([WalkDone(partner, incremental=incremental)])


def positions(db: Path, partner: str = "alibaba") -> dict[str, int]:
    sql = "SELECT article_url, position FROM article_partners WHERE partner = ?"
    return dict(query(db, sql, partner))


def places(listing: Sequence[str]) -> dict[str, int]:
    """Each card's place on ``listing``, as a full walk numbers it."""
    return {url: place for place, url in enumerate(listing, start=1)}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """An archive whose last (full) walk of alibaba saw the ten cards of OLDER, and of
    visa three of them."""
    path = tmp_path / "a.db"
    walk(path, OLDER, len(OLDER), incremental=False)
    walk(path, OLDER[:3], 3, incremental=False, partner="visa")
    return path


def test_an_incremental_walk_moves_the_older_cards_it_did_not_reach(db):
    listing = NEW[:2] + OLDER
    walk(db, listing, 5)  # two new cards, then c1..c3: the walk stops there

    assert positions(db) == places(listing)
    assert positions(db, "visa") == places(OLDER[:3])  # another partner's links: untouched


def test_a_second_incremental_walk_with_nothing_new_moves_nothing(db):
    listing = NEW[:2] + OLDER
    walk(db, listing, 5)
    walk(db, listing, 3)  # the first page again: every card known, none moved

    assert positions(db) == places(listing)


def test_a_card_gone_from_the_walked_part_keeps_its_place_and_the_rest_move(db):
    gone = OLDER[1]
    listing = NEW + [url for url in OLDER if url != gone]  # three new cards, c2 removed
    walk(db, listing, 6)  # n1..n3, c1, c3, c4: c4 moved from 4 to 6

    assert positions(db) == places(listing) | {gone: OLDER.index(gone) + 1}


def test_cards_removed_and_none_added_move_the_older_ones_up(db):
    listing = [url for url in OLDER if url not in OLDER[1:3]]  # c2 and c3 removed
    walk(db, listing, 3)  # c1, c4, c5: c5 moved from 5 to 3

    assert positions(db) == places(listing) | {OLDER[1]: 2, OLDER[2]: 3}


def test_a_full_walk_moves_no_card_it_did_not_see(db):
    listing = NEW[:2] + OLDER[:8]  # c9 and c10 left the listing
    walk(db, listing, len(listing), incremental=False)

    assert positions(db) == places(listing) | {OLDER[8]: 9, OLDER[9]: 10}


def test_a_walk_not_completed_moves_nothing_it_did_not_see(db):
    listing = NEW[:2] + OLDER
    walk(db, listing, 4, complete=False)  # interrupted: the next crawl walks in full

    unreached = {url: place for url, place in places(OLDER).items() if url not in listing[:4]}
    assert positions(db) == places(listing[:4]) | unreached


# --- real crawls: the saved site missing omega's 8 newest cards, then the saved site ---------

NEWEST = 8  # omega's newest cards: its first page (6) and two of its second
OMEGA_CARDS = EXPECTED_PER_PARTNER["omega"]  # on the saved site


@pytest.fixture(scope="module")
def older_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean archive of the saved site as it stood before omega's 8 newest cards: read
    only (a test that writes copies it)."""
    folder = tmp_path_factory.mktemp("older")
    older = site_without_newest(folder / "site", "omega", NEWEST)
    db = folder / "older.db"
    result = run_olyscrape("crawl", "--replay", str(older), "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    return db


def copy_of(archive: Path, target: Path) -> Path:
    """A copy of ``archive`` (closed: its WAL checkpointed into the file)."""
    source = sqlite3.connect(archive)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target


def omega_links(db: Path) -> int:
    return query(db, "SELECT count(*) FROM partner_links WHERE partner = 'omega'")[0][0]


def duplicated_positions(db: Path) -> list[tuple]:
    return query(db, """SELECT partner, position, count(*) FROM partner_links
        GROUP BY partner, position HAVING count(*) > 1""")  # fmt: skip


@pytest.mark.slow
def test_an_archive_grown_incrementally_equals_a_clean_crawl(older_archive, archive_db, tmp_path):
    db = copy_of(older_archive, tmp_path / "a.db")
    assert omega_links(db) == omega_links(archive_db) - NEWEST  # the older site, archived

    result = run_olyscrape("crawl", "--replay", str(SITE), "--db", str(db))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "crawl OK" in result.stdout
    incremental = next(line for line in result.stdout.splitlines()
                       if line.startswith("incremental:"))  # fmt: skip
    assert "omega" in incremental  # it stopped at omega's second page, not walking the third
    assert duplicated_positions(db) == []
    assert archive_fields(db) == archive_fields(archive_db)


OMEGA_NEW_LINKS = (
    f"""SELECT count(*) > {OMEGA_CARDS - NEWEST} FROM partner_links WHERE partner = 'omega'"""
)
OMEGA_PAGES = """SELECT count(*) FROM articles a JOIN partner_links l ON l.article_id = a.id
    WHERE l.partner = 'omega' AND a.body IS NOT NULL"""
CRAWLS = "SELECT count(*) FROM crawls"
#: Omega's walk recorded complete by the crawl still running (its row opened after the
#: older crawl's walk ended: the crawls are seconds apart).
OMEGA_DONE = """SELECT count(*) FROM partners p JOIN crawls c ON c.status = 'running'
    WHERE p.slug = 'omega' AND p.walk_completed >= c.started_at
        AND p.walk_completed >= p.walk_started"""
#: Visa's listing answered after 10 s, once: the crawl goes on after omega's walk ended
#: (however slow a loaded machine makes it; the crawl is killed long before).
VISA_LATE = {"/ioc/visa": Fault("slow", times=1, seconds=10)}
#: The pages of omega's four oldest new cards answered after 2 s, once: the crawl goes on
#: after the others are stored.
OMEGA_PAGES_LATE = {
    item.href: Fault("slow", times=1, seconds=2)
    for item in generator.build_items()[0]["omega"][NEWEST - 4 : NEWEST]
}

# (signal, the moment: a condition on what the archive holds, the mirror's faults). Before
# omega's partner row is written again the rerun walks omega incrementally; after, its
# walk is open and the rerun walks it in full; once it is recorded complete, the rerun
# finds omega's positions as this crawl left them.
TRIALS: list[tuple[str, str, Callable[[Path], bool], dict[str, Fault]]] = [
    ("SIGKILL", "crawl row opened", lambda db: count(db, CRAWLS) >= 2, {}),
    ("SIGKILL", "omega's new cards stored", lambda db: count(db, OMEGA_NEW_LINKS) == 1, {}),
    ("SIGTERM", "some of omega's new pages stored",
     lambda db: count(db, OMEGA_PAGES) >= OMEGA_CARDS - NEWEST + 2, OMEGA_PAGES_LATE),
    ("SIGKILL", "omega's walk recorded complete", lambda db: count(db, OMEGA_DONE) == 1,
     VISA_LATE),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("how", "moment", "condition", "faults"), TRIALS,
                         ids=[f"{t[0]}-{t[1]}" for t in TRIALS])  # fmt: skip
def test_an_incremental_crawl_stopped_at_any_moment_is_completed_by_one_rerun(
    older_archive, archive_db, tmp_path, how, moment, condition, faults
):
    db = copy_of(older_archive, tmp_path / "a.db")
    with serve_in_thread(SITE, delay=0.2, faults=faults) as server:
        # A batch of one: each page's cards, each page and each walk's end are committed
        # as they come (a larger batch would hold omega's last items until more came).
        process = crawl_process(server.base_url, db, "--batch-size", "1", cwd=tmp_path)
        out, err = stop_when(process, lambda: condition(db), how)
        if how == "SIGKILL":
            assert process.returncode == -signal.SIGKILL
        else:
            assert process.returncode == 1, out + err
            assert "crawl INTERRUPTED" in out and "Traceback" not in err
        assert query(db, "PRAGMA integrity_check") == [("ok",)]

        server.delay = 0
        again = run_olyscrape("crawl", "--base-url", server.base_url, "--db", str(db))

    assert again.returncode == 0, again.stdout + again.stderr
    assert "Traceback" not in again.stderr and "Error:" not in again.stderr
    assert "crawl OK" in again.stdout
    assert duplicated_positions(db) == []
    assert archive_fields(db) == archive_fields(archive_db)
