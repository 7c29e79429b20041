"""The markup of the saved site's own pages: listing cards and their page (its ajax area,
btn-more link and no-script paging), load-more JSON answers, and article pages; each a
function of an :class:`~olyscrape.testing.sitegen.news.Item` (or a list of them) returning
text. Nothing here writes a file (:mod:`olyscrape.testing.sitegen.builder` does).

The card layouts rotate by the card's index and the article bodies are chosen by a hash of
the slug, so the same items always give the same bytes.
"""

from __future__ import annotations

import json

from olyscrape.testing.sitegen.chrome import attr, esc, numeric_refs, render_page
from olyscrape.testing.sitegen.data import (
    ADDED,
    CAPTION,
    CITIES,
    CLOSING,
    HEADINGS,
    LEADS,
    LOADMORE,
    MIDDLES,
    PARTNERS,
    PARTNERS_MAIN,
    QUOTE,
    REVENUE,
    REWORDED,
    STILLMED,
    WORD_PARAGRAPHS,
)
from olyscrape.testing.sitegen.news import (
    Item,
    Layout,
    date_parts,
    hashint,
    hexid,
    label_class,
    loadmore_answers,
    long_date,
    partner,
    slugify,
    unique_word,
    upper_date,
)


def json_title(text: str) -> str:
    """A title as the load-more JSON carries it: HTML-entity encoded."""
    return numeric_refs(text)


def wrap(text: str, joiner: str, width: int) -> str:
    """Break text into lines of at most width characters, joined by joiner."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return joiner.join(lines)


def image_url(item: Item, partner_slug: str, relative_ok: bool = True) -> str:
    """The card image: absolute on stillmed, or relative when the item asks for it."""
    short = "-".join(item.slug.lstrip("-").split("-")[:3])
    parts = date_parts(item.date)
    if parts is None:
        return f"{STILLMED}/Partners/{partner_slug}/{short}-thumbnail.jpg"
    year, month, day = parts
    if item.relimg and relative_ok:
        return f"/images/news/{year}/{month}/{short}-thumbnail.jpg"
    return f"{STILLMED}/{year}/{month}/{day}/{year}-{month}-{day}-{short}-thumbnail.jpg"


def srcset(url: str, width: int, height: int) -> str:
    def one(w: int, h: int) -> str:
        return f"{url}?interpolation=lanczos-none&amp;fit=around|{w}:{h}&amp;crop={w}:{h};*,*"

    return f"{one(width, height)}, {one(width * 2, height * 2)} 2x"


LD_JSON = ("{\n\n}", "{\n  \n}", "{}", "\n}")
IE_COMMENT = "<!--[if IE 9]></video><![endif]--> "
MIXED = "\n  \t\t    \t\t"
TMPL_SCRIPT = """<script id="newsthumbMed_tmpl" type="text/x-jquery-tmpl">
\t<article class="box">
\t\t<span class="image"><a href="${url}"><picture class="image">
\t\t\t<img src="${thumb.desktop}" alt=""></picture>
\t\t<span class="news-topic-label">${topic.name}</span></a></span>
\t\t<h2><a href="${url}">{{html title}}</a></h2>
\t\t<time datetime="${date}">${date}</time>
\t</article>
</script>
"""


def card_label(item: Item, style: int) -> str:
    if item.mixed:
        return esc(item.label).replace(" ", MIXED)
    if style == 1:
        return esc(item.label).replace(" ", "\n\t\t\t\t\t\t\t\t\t\t", 1)
    return esc(item.label)


def card_title(item: Item, style: int) -> str:
    text = numeric_refs(item.title) if item.entities else esc(item.title)
    if item.mixed:
        return " " + text.replace(" ", MIXED, 2) + "   "
    if style == 1:
        return " " + wrap(text, "\n\t\t\t\t\t\t\t\t\t", 56) + " "
    if style == 2:
        return "\n\t\t\t\t\t\t\t\t\t" + text + " "
    return text


def card_picture(item: Item, partner_slug: str, index: int) -> str:
    img = image_url(item, partner_slug)
    alt = attr(item.title) if index % 4 == 3 else ""
    ie = IE_COMMENT if index % 5 == 3 else ""
    return (
        '<picture\n\t\t\t\t\t\t\t\t\t\tclass="image">\n\n'
        f'\t\t\t\t\t\t\t\t\t<source\n\t\t\t\t\t\t\t\t\t\tsrcset="{srcset(img, 520, 292)}"\n'
        '\t\t\t\t\t\t\t\t\t\tmedia="(min-width: 1024px)">\n'
        f'\t\t\t\t\t\t\t\t\t<source\n\t\t\t\t\t\t\t\t\t\tsrcset="{srcset(img, 326, 183)}"\n'
        '\t\t\t\t\t\t\t\t\t\tmedia="(min-width: 768px)">\n'
        f'\t\t\t\t\t\t\t\t\t{ie}<img\n\t\t\t\t\t\t\t\t\t\tsrc="{img}"\n'
        f'\t\t\t\t\t\t\t\t\t\tsrcset="{srcset(img, 280, 157)}"\n'
        f'\t\t\t\t\t\t\t\t\t\talt="{alt}"></picture>'
    )


def render_card(item: Item, partner_slug: str, index: int) -> str:
    style = index % 3
    side = "left" if index % 2 == 0 else "right"
    label = (
        f'<span class="news-topic-label {label_class(item.label)}">{card_label(item, style)}</span>'
    )
    picture = card_picture(item, partner_slug, index)
    if item.href is None:
        image = f'<span class="image"> {picture} {label}\n\t\t\t\t\t\t\t</span>'
        heading = f"<h2>\n\t\t\t\t\t\t\t\t{card_title(item, style)}\n\t\t\t\t\t\t\t</h2>"
    else:
        href = attr(item.href)
        image = (
            f'<span class="image"> <a\n\t\t\t\t\t\t\t\thref="{href}"> {picture} {label}\n'
            "\t\t\t\t\t\t\t</a>\n\t\t\t\t\t\t\t</span>"
        )
        heading = (
            f'<h2>\n\t\t\t\t\t\t\t\t<a href="{href}">{card_title(item, style)}</a>\n'
            "\t\t\t\t\t\t\t</h2>"
        )
    time = (
        f'\n\t\t\t\t\t\t\t<time datetime="{item.date}">{item.date}</time>' if item.has_time else ""
    )
    return (
        f'\t\t\t\t\t\t<article id="box-{hexid("box", partner_slug, item.slug)}"\n'
        f'\t\t\t\t\t\t\tclass="box same-height-{side}" style="height: 454px;">\n'
        f'\t\t\t\t\t\t\t<script type="application/ld+json">{LD_JSON[index % 4]}</script>\n'
        f"\t\t\t\t\t\t\t{image}\n"
        f"\t\t\t\t\t\t\t{heading}{time}\n"
        "\t\t\t\t\t\t</article>"
    )


def loadmore_href(guid: str, count: int, offset: int) -> str:
    return f"{LOADMORE}/%7B{guid}%7D/{count}/{offset}/"


def render_paging(prev_href: str | None, next_href: str | None) -> str:
    prev_attrs = f' class="prev" href="{prev_href}" rel="prev"' if prev_href else ""
    out = [
        "\t\t\t\t<noscript>",
        '\t\t\t\t\t<div class="paging">',
        "\t\t\t\t\t\t<ul>",
        f'\t\t\t\t\t\t\t<li><a{prev_attrs}><span class="icon-arrow-left"><span\n'
        '\t\t\t\t\t\t\t\t\t\t\tclass="hide">&lt;</span></span></a></li>',
    ]
    if next_href:
        out.append(
            '\t\t\t\t\t\t\t<li><a class="next"\n'
            f'\t\t\t\t\t\t\t\thref="{next_href}" rel="next"><span\n'
            '\t\t\t\t\t\t\t\t\tclass="icon-arrow-right"><span class="hide">&gt;</span>'
            "</span></a></li>"
        )
    out += ["\t\t\t\t\t\t</ul>", "\t\t\t\t\t</div>", "\t\t\t\t</noscript>"]
    return "\n".join(out)


def listing_main(name: str, guid: str, cards: list[str], extras: list[str]) -> str:
    area = guid.replace("-", "").lower()
    content = "\n".join(cards) + "\n" if cards else ""
    tail = "".join(extra + "\n" for extra in extras)
    return (
        '\t<div class="heading-block">\n'
        f"\t\t<h1>\n\t\t\t{esc(name)} \n\t\t</h1>\n"
        "\t</div>\n"
        '\t<section class="related-posts">\n'
        f'\t\t<div id="ajax-area-{area}"\n'
        '\t\t\tclass="boxes alt ajax-area" data-tmpl="newsthumbMed_tmpl">\n'
        '\t\t\t<div class="ajax-content">\n'
        f"{content}"
        "\t\t\t</div>\n"
        f"{tail}"
        "\t\t</div>\n"
        "\t</section>\n"
        '\t<a class="back-to-top" href="#wrapper">back to top</a>'
    )


def page_paths(slug: str, count: int) -> list[str]:
    return [f"/ioc/{slug}"] + [f"/ioc/{slug}/page/{n}" for n in range(2, count + 1)]


def json_item(item: Item, partner_slug: str) -> dict:
    thumb = image_url(item, partner_slug, relative_ok=False)
    return {
        "title": json_title(item.title),
        "url": item.href,
        "date": item.date,
        "topic": {"name": item.label},
        "thumb": {"desktop": f"{thumb}?interpolation=lanczos-none&fit=around|520:292"},
    }


def loadmore_path(guid: str, count: int, offset: int) -> str:
    return f"{LOADMORE.lstrip('/')}/{{{guid}}}/{count}/{offset}/index.json"


def partner_phrase(item: Item) -> str:
    return " and ".join(item.partners)


def body_blocks(item: Item) -> list[str]:
    seed = hashint(item.slug)
    partner = partner_phrase(item)
    city = CITIES.get(item.label, "Lausanne")
    when = long_date(item.date)
    quoted = item.lead_title or item.title
    title = quoted if quoted[-1] in ".!?" else quoted + "."
    fields = {
        "partner": partner,
        "city": city,
        "label": item.label,
        "word": unique_word(item.slug),
        "title": title,
        "when": f"on {when} " if when else "",
    }
    paragraphs = [
        LEADS[seed % len(LEADS)].format(**fields),
        WORD_PARAGRAPHS[(seed >> 3) % len(WORD_PARAGRAPHS)].format(**fields),
        MIDDLES[(seed >> 6) % len(MIDDLES)].format(**fields),
        REVENUE,
        CLOSING.format(**fields),
    ][: 3 + (seed >> 9) % 3]
    if item.edited:
        paragraphs[2] = REWORDED.format(**fields)
        paragraphs.append(ADDED.format(**fields))
    blocks = [f"\t\t<p>{esc(text)}</p>" for text in paragraphs]
    extras_at = 2
    if (seed >> 12) % 2:
        quote = esc(QUOTE.format(**fields))
        blocks.insert(extras_at, f"\t\t<blockquote>\n\t\t\t<p>{quote}</p>\n\t\t</blockquote>")
    blocks.insert(extras_at, f"\t\t<h2>{HEADINGS[(seed >> 14) % len(HEADINGS)]}</h2>")
    if (seed >> 17) % 2:
        img = image_url(item, "ioc", relative_ok=False)
        caption = esc(CAPTION.format(**fields))
        blocks.insert(
            extras_at,
            f'\t\t<div class="image">\n\t\t\t<img src="{img}" alt="">\n'
            f'\t\t\t<span class="caption">{caption}</span>\n\t\t</div>',
        )
    return blocks


def tag_links(item: Item) -> str:
    slugs = {name: slug for slug, name, _ in PARTNERS}
    tags = [(name, slugs[name]) for name in item.partners] + [(item.label, slugify(item.label))]
    return ", ".join(f'<a href="/ioc/news?tag={tag}">{esc(name)}</a>' for name, tag in tags)


def article_main(item: Item) -> str:
    body = "\n".join(body_blocks(item))
    return (
        '\t<section class="post-box text-content">\n'
        '\t\t<div class="info-col">\n'
        "\t\t\t<dl>\n"
        "\t\t\t\t<dt>Date</dt>\n"
        f"\t\t\t\t<dd>{upper_date(item.date)}</dd>\n"
        "\t\t\t\t<dt>Tags</dt>\n"
        f"\t\t\t\t<dd>{tag_links(item)}</dd>\n"
        "\t\t\t</dl>\n"
        "\t\t</div>\n"
        f'\t\t<span class="news-topic-label {label_class(item.label)}">{esc(item.label)}</span>\n'
        f"\t\t<h1>{esc(item.title)}</h1>\n"
        '\t\t<ul class="social-col">\n'
        '\t\t\t<li><a href="#">Share on Facebook</a></li>\n'
        '\t\t\t<li><a href="#">Share on Twitter</a></li>\n'
        '\t\t\t<li><a href="#">Share by email</a></li>\n'
        "\t\t</ul>\n"
        f"{body}\n"
        "\t</section>"
    )


# --- whole pages: (file relative to the site folder, text) ------------------------------


def partners_page() -> str:
    """``/ioc/partners``: the TOP programme page the footer and a menu link point to."""
    return render_page("The Olympic Partner Programme", "/ioc/partners", PARTNERS_MAIN)


def listing_pages(slug: str, items: list[Item], layout: Layout) -> list[tuple[str, str]]:
    """Partner ``slug``'s listing page, then its no-script pages, each holding its share of
    ``items`` as ``layout.pages`` says (items past them are left to the load-more answers)."""
    who = partner(slug)
    paths = page_paths(slug, len(layout.pages))
    pages, start = [], 0
    for number, size in enumerate(layout.pages):
        chunk = items[start : start + size]
        cards = [render_card(item, slug, index) for index, item in enumerate(chunk)]
        extras = []
        if layout.more is not None:
            href = loadmore_href(who.guid, *layout.more)
            extras.append(f'\t\t\t<span class="btn-more"><a href="{href}">+</a></span>')
        if len(paths) > 1:
            prev_href = paths[number - 1] if number else None
            next_href = paths[number + 1] if number + 1 < len(paths) else None
            extras.append(render_paging(prev_href, next_href))
        elif layout.dead_paging:
            extras.append(render_paging(None, None))
        main = listing_main(who.name, who.guid, cards, extras)
        tail = TMPL_SCRIPT if layout.more is not None else ""
        page = render_page(who.name, paths[number], main, tail)
        pages.append((paths[number].lstrip("/") + ".html", page))
        start += size
    return pages


def load_more_answer(slug: str, count: int, offset: int, items: list[Item]) -> tuple[str, str]:
    """Partner ``slug``'s load-more answer for ``(count, offset)``, holding ``items``."""
    body = {"content": [json_item(item, slug) for item in items]}
    text = json.dumps(body, ensure_ascii=False, indent=1) + "\n"
    return loadmore_path(partner(slug).guid, count, offset), text


def load_more_answers(slug: str, items: list[Item], layout: Layout) -> list[tuple[str, str]]:
    """Every load-more answer ``layout`` serves for partner ``slug``'s ``items``."""
    if layout.more is None:
        return []
    count = layout.more[0]
    return [
        load_more_answer(slug, count, offset, chunk)
        for offset, chunk in loadmore_answers(items, layout)
    ]


def article_page(item: Item) -> tuple[str, str]:
    """The article page of ``item`` (one on the canonical origin)."""
    path = f"/ioc/news/{item.slug}"
    page = render_page(f"{item.title} - Olympic News", path, article_main(item))
    return f"ioc/news/{item.slug}.html", page
