"""The chrome every page of the saved site wears: the document frame, the site menu (where
discovery finds the partners), the top bar and the footer, and the escaping they share.

The literals are in :mod:`olyscrape.testing.sitegen.data`; the page bodies are in
:mod:`olyscrape.testing.sitegen.markup`.
"""

from __future__ import annotations

import html

from olyscrape.testing.sitegen.data import COPYRIGHT, FOOTER, MENUS, ORIGIN, SITES_BAR, SOCIAL


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def numeric_refs(text: str) -> str:
    """HTML text with typographic punctuation written as numeric character references."""
    out = esc(text)
    for char in "‘’“”–—":
        out = out.replace(char, f"&#{ord(char)};")
    return out


def render_links(links: list[tuple[str, str]], pad: str) -> list[str]:
    out = [f'{pad}<div class="links-row">', f"{pad}\t<ul>"]
    for href, text in links:
        out.append(f'{pad}\t\t<li><a href="{attr(href)}">{esc(text)}</a></li>')
    out += [f"{pad}\t</ul>", f"{pad}</div>"]
    return out


def render_column(column: tuple, pad: str) -> list[str]:
    heading, links, *groups = column
    out = [f'{pad}<div class="drop-col">']
    if heading is not None:
        out.append(f'{pad}\t<strong class="title">{esc(heading)}</strong>')
    out += render_links(links, pad + "\t")
    for subheading, sublinks in groups:
        out.append(f'{pad}\t<strong class="subtitle">{esc(subheading)}</strong>')
        out += render_links(sublinks, pad + "\t")
    out.append(f"{pad}</div>")
    return out


def render_menu() -> str:
    out = ['\t\t\t<ul id="nav">']
    for index, (name, columns) in enumerate(MENUS):
        pad = "\t\t\t\t\t\t\t" if index % 2 == 0 else "\t\t\t\t\t\t\t  "
        out.append('\t\t\t\t<li class="has-drop-down">')
        out.append(f'\t\t\t\t\t<a class="has-drop-down-a" href="#">{esc(name)}</a>')
        out.append('\t\t\t\t\t<div class="drop">\n\t\t\t\t\t\t<div class="drop-holder">')
        for column in columns:
            out += render_column(column, pad)
        out.append("\t\t\t\t\t\t</div>\n\t\t\t\t\t</div>\n\t\t\t\t</li>")
    out.append("\t\t\t</ul>")
    return "\n".join(out)


def render_header() -> str:
    sites = "\n".join(
        f'\t\t\t\t<li><a href="{attr(href)}">{esc(text)}</a></li>' for href, text in SITES_BAR
    )
    return (
        '<header id="header">\n'
        '\t<div class="header-holder">\n'
        '\t\t<a class="logo" href="/ioc"><img src="/images/ioc-logo.svg" '
        'alt="International Olympic Committee"></a>\n'
        '\t\t<nav class="main-nav">\n'
        f"{render_menu()}\n"
        '\t\t\t<div class="sites-bar">\n'
        '\t\t\t\t<ul class="sites-list">\n'
        f"{sites}\n"
        "\t\t\t\t</ul>\n"
        '\t\t\t\t<div class="lang-select"><a href="#">English</a></div>\n'
        '\t\t\t\t<p class="copy">©2021 International Olympic Committee. '
        "All Rights Reserved.</p>\n"
        "\t\t\t</div>\n"
        "\t\t</nav>\n"
        "\t</div>\n"
        "</header>"
    )


def render_footer() -> str:
    out = [
        '<footer id="footer">',
        '\t<div class="footer-holder">',
        '\t\t<strong class="footer-logo">International Olympic Committee</strong>',
        '\t\t<div class="footer-cols">',
    ]
    for heading, links in FOOTER:
        out.append('\t\t\t<div class="footer-col">')
        out.append(f'\t\t\t\t<strong class="title">{esc(heading)}</strong>')
        out.append("\t\t\t\t<ul>")
        out += [f'\t\t\t\t\t<li><a href="{attr(h)}">{esc(t)}</a></li>' for h, t in links]
        out.append("\t\t\t\t</ul>\n\t\t\t</div>")
    out.append("\t\t</div>")
    out.append(f'\t\t<p class="copyright">{COPYRIGHT}</p>')
    out.append('\t\t<div class="follow">\n\t\t\t<strong>Follow us</strong>')
    out.append('\t\t\t<ul class="social-networks">')
    out += [f'\t\t\t\t<li><a href="{attr(h)}">{esc(t)}</a></li>' for h, t in SOCIAL]
    out.append("\t\t\t</ul>\n\t\t</div>\n\t</div>\n</footer>")
    return "\n".join(out)


def render_page(title: str, path: str, main: str, tail: str = "") -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        f'<link rel="canonical" href="{ORIGIN}{path}">\n'
        '<link rel="stylesheet" href="/css/main.css">\n'
        "</head>\n"
        "<body>\n"
        '<div id="wrapper">\n'
        f"{render_header()}\n"
        '<main id="main">\n'
        f"{main}\n"
        "</main>\n"
        f"{render_footer()}\n"
        "</div>\n"
        f"{tail}"
        "</body>\n"
        "</html>\n"
    )
