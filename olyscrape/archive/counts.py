"""How many articles each partner's listing showed, per date published: ``partner_counts``.

``olyscrape stats`` gives, per partner, its articles with the first and last date
published, and per partner and year the articles published: figures over every partner
link and its article. Worked out from the links (a join of 1.1 million links to their
articles at a million articles: 1.5 CPU seconds, a sort of as many rows included) they
took 4 s; read from ``partner_counts`` (one row per partner and date: about 140,000 at
a million articles) they take a few hundredths of a second.

The table is kept by triggers (schema version 8 on), so every write keeps it exact,
olyscrape's own and another program's alike (but for a ``REPLACE`` over an existing row,
whose delete fires no trigger unless ``recursive_triggers`` is on, and an article's
``id`` changed: ``verify`` finds those): a new link adds one to its partner and its
article's date, a link removed takes one away, an article's date changed moves its links'
counts from the old date to the new one, an article deleted takes its links' counts with
it. Only a link to an article that exists counts (the join of the two tables counts no
other). A partner and date left with no article loses its row. A migration fills the
table once from the links (:data:`FILL`); an archive of an earlier version is read with
:data:`COMPUTED` in its place (see :mod:`~olyscrape.archive.legacy`): the same figures,
at the join's cost.
"""

from __future__ import annotations

#: ``partner_counts`` worked out from the links: the migration's fill, an older archive's view.
COMPUTED = """SELECT l.partner AS partner, a.published AS published, count(*) AS articles
FROM partner_links l JOIN articles a ON a.id = l.article_id
GROUP BY l.partner, a.published"""
FILL = f"INSERT INTO partner_counts (partner, published, articles) {COMPUTED}"


#: The table's key: a partner and a date, NULL (undated) told apart from every date (a key
#: of the two columns would take each undated link for a row of its own).
KEY = "ifnull(published, x'')"
#: The unique index that keys the table (and serves the triggers' upserts).
INDEX = f"CREATE UNIQUE INDEX IF NOT EXISTS partner_counts_key ON partner_counts (partner, {KEY})"
_ONE_MORE = f"ON CONFLICT (partner, {KEY}) DO UPDATE SET articles = articles + 1"


def _add(partner: str, article: str) -> str:
    """One more article for ``partner`` at the date of article number ``article`` (none
    when no such article exists): one upsert."""
    return f"""INSERT INTO partner_counts (partner, published, articles)
        SELECT {partner}, a.published, 1 FROM articles a WHERE a.id = {article} {_ONE_MORE};"""


def _remove(partner: str, article: str) -> str:
    """One article less for ``partner`` at the date of article number ``article``; the row
    goes when none is left."""
    where = f"""partner = {partner} AND EXISTS (SELECT 1 FROM articles WHERE id = {article})
            AND {KEY} = (SELECT ifnull(published, x'') FROM articles WHERE id = {article})"""
    return f"""UPDATE partner_counts SET articles = articles - 1 WHERE {where};
        DELETE FROM partner_counts WHERE {where} AND articles <= 0;"""


#: The partners of the article a trigger on ``articles`` fired for.
_PARTNERS = "SELECT partner FROM partner_links WHERE article_id = {row}.id"
#: Every link of the article (``old``) one article less at its old date.
_OLD_DATE_LESS = f"""UPDATE partner_counts SET articles = articles - 1
            WHERE {KEY} = ifnull(old.published, x'') AND partner IN ({_PARTNERS.format(row="old")});
        DELETE FROM partner_counts WHERE {KEY} = ifnull(old.published, x'') AND articles <= 0
            AND partner IN ({_PARTNERS.format(row="old")});"""
#: Every link of the article (``new``) one article more at its new date.
_NEW_DATE_MORE = f"""INSERT INTO partner_counts (partner, published, articles)
        SELECT l.partner, new.published, 1 FROM partner_links l WHERE l.article_id = new.id
        {_ONE_MORE};"""

#: Trigger name → ``CREATE TRIGGER``: what keeps ``partner_counts`` exact.
TRIGGERS = {
    "partner_counts_link_ai": f"""CREATE TRIGGER partner_counts_link_ai
        AFTER INSERT ON partner_links
        BEGIN {_add("new.partner", "new.article_id")} END""",
    "partner_counts_link_ad": f"""CREATE TRIGGER partner_counts_link_ad
        AFTER DELETE ON partner_links
        BEGIN {_remove("old.partner", "old.article_id")} END""",
    "partner_counts_link_au": f"""CREATE TRIGGER partner_counts_link_au
        AFTER UPDATE OF article_id, partner ON partner_links
        WHEN old.article_id IS NOT new.article_id OR old.partner IS NOT new.partner
        BEGIN {_remove("old.partner", "old.article_id")}
        {_add("new.partner", "new.article_id")} END""",
    # A link made before its article (another program's order): counted once it exists.
    "partner_counts_article_ai": f"""CREATE TRIGGER partner_counts_article_ai
        AFTER INSERT ON articles
        WHEN EXISTS (SELECT 1 FROM partner_links WHERE article_id = new.id)
        BEGIN {_NEW_DATE_MORE} END""",
    "partner_counts_article_au": f"""CREATE TRIGGER partner_counts_article_au
        AFTER UPDATE OF published ON articles
        WHEN old.published IS NOT new.published AND old.id = new.id
        BEGIN {_OLD_DATE_LESS} {_NEW_DATE_MORE} END""",
    # Before the row goes (its links go after it, by articles_links_ad, and count no more).
    "partner_counts_article_bd": f"""CREATE TRIGGER partner_counts_article_bd
        BEFORE DELETE ON articles
        BEGIN {_OLD_DATE_LESS} END""",
}

#: ``stats``' figures, read from ``partner_counts``.
PARTNER_STATS = """
SELECT p.slug AS partner, p.name, coalesce(sum(c.articles), 0) AS articles,
       min(c.published) AS first_published, max(c.published) AS last_published
FROM partners p LEFT JOIN partner_counts c ON c.partner = p.slug
GROUP BY p.slug ORDER BY p.slug"""
PER_PARTNER_YEAR = """
SELECT partner, substr(published, 1, 4) AS year, sum(articles) AS articles
FROM partner_counts WHERE published IS NOT NULL
GROUP BY partner, year ORDER BY partner, year"""
#: Articles (not links) per year published: the dates first, read in the order of their
#: index (no sort of a million rows), then their years.
PER_YEAR = """
SELECT coalesce(substr(published, 1, 4), 'undated') AS year, sum(n) AS articles
FROM (SELECT published, count(*) AS n FROM articles GROUP BY published)
GROUP BY 1 ORDER BY 1"""
