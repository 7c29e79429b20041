"""The saved site's literals: the partners and how each listing is served, the invented news
items, the site menu, top bar and footer, and the sentences article bodies are made of.

Pure data (long by nature): :mod:`olyscrape.testing.sitegen.markup` and ``chrome`` turn it
into pages, :mod:`olyscrape.testing.sitegen.builder` writes them. Change a special case of the
saved site here, then regenerate it (``python -m olyscrape.testing.site``).
"""

from __future__ import annotations

from typing import Any

ORIGIN = "https://olympics.com"
STILLMED = "https://stillmed.olympic.org/media/Images/OlympicOrg/News"
LOADMORE = "/ioc/ajaxscript/loadmoreoverviewnews"
WORD_STEM = "zephyrquill"

# --------------------------------------------------------------------------------------
# Partners: slug, name, Sitecore GUID of the listing's ajax area (in TOP column order).
# --------------------------------------------------------------------------------------

PARTNERS = [
    ("airbnb", "Airbnb", "F2BD3DAA-66DC-4DEA-BADB-AEE8CBC26C90"),
    ("alibaba", "Alibaba", "51088A92-9973-4102-8FD1-C848034D58D6"),
    ("allianz", "Allianz", "B8ED476D-493F-47B1-8B79-DD91FC18AA20"),
    ("atos", "Atos", "A66D7866-9F88-49BF-942F-69C1A677F421"),
    ("bridgestone", "Bridgestone", "AA0B23F0-7BA3-4BBD-802D-A75784034914"),
    ("coca-cola", "Coca-Cola", "1EA86666-2664-474B-B41F-9A7192D5D745"),
    ("dow", "Dow", "0D6B44F9-CD00-4B20-899A-9074DF9130B2"),
    ("intel", "Intel", "CD820F8A-D056-4FBE-BE99-AAD701A23E96"),
    ("omega", "Omega", "43E3ACA1-C844-465F-A5F7-47D7D1EBE092"),
    ("panasonic", "Panasonic", "7821A131-44AE-4895-8399-82D434912CEA"),
    ("pg", "P&G", "B8F33DD4-F9A5-4AD9-BE62-0A398BF19F39"),
    ("samsung", "Samsung", "1D3F51E1-4912-4082-AB92-297F3BACA6BD"),
    ("toyota", "Toyota", "2283E3A0-AAAC-421B-893B-3A222F8C0242"),
    ("visa", "Visa", "FB992646-8BF4-4195-A0F0-92EBD946BD51"),
]

# How each listing is served.
#   pages:   cards on the listing page, then on each no-script page (/ioc/<slug>/page/<n>)
#   more:    (count, offset) of the btn-more link;  offsets: the JSON files written
#   fixed:   the server ignores the offset and always answers from this one
#   dead_paging: a no-script paging block with only the left arrow (no a.next)
LAYOUT: dict[str, dict[str, Any]] = {
    "airbnb": {"pages": (0,)},
    "alibaba": {"pages": (9,), "more": (9, 9), "offsets": (9, 18, 27)},
    "allianz": {"pages": (7,)},
    "atos": {"pages": (10,), "more": (10, 10), "offsets": (10, 20)},
    "bridgestone": {"pages": (5,)},
    "coca-cola": {"pages": (6,)},
    "dow": {"pages": (4,), "dead_paging": True},
    "intel": {"pages": (5,)},
    "omega": {"pages": (6, 6, 3)},
    "panasonic": {"pages": (5,), "more": (5, 5), "offsets": (5, 10, 15), "fixed": 5},
    "pg": {"pages": (4,), "dead_paging": True},
    "samsung": {"pages": (5,)},
    "toyota": {"pages": (5,)},
    "visa": {"pages": (6,), "more": (6, 0), "offsets": (0, 6, 12)},
}

#: The layouts the changed copy (the site a week later, ``sitegen.changes``) serves
#: otherwise: a new card at the top of omega's listing moves a card onto each next page.
CHANGED_LAYOUT: dict[str, dict[str, Any]] = {"omega": {"pages": (6, 6, 4)}}

NOTES = {
    "airbnb": "no cards: empty ajax-content, no btn-more, no paging",
    "alibaba": (
        "the seed's 9 cards; JSON answer of 4 < count ends it; entity-encoded JSON titles; "
        "one absolute JSON url; one card title written with numeric character references; "
        "shares one article with Visa"
    ),
    "allianz": "no load-more; two cards with label and title broken by runs of spaces and tabs",
    "atos": 'JSON answer of exactly count (10), then `{"content": []}` ends it',
    "bridgestone": (
        "one card links to www.bridgestone.com (no page here); "
        "one card links absolutely to https://olympics.com/ioc/news/..."
    ),
    "coca-cola": "relative image URLs (/images/...) on three cards",
    "dow": "no-script paging block without a.next; one relative image URL",
    "intel": "one card without any link (not an article)",
    "omega": "no btn-more; no-script paging over 3 pages, the last without a.next",
    "panasonic": (
        "server ignores the offset: offsets 5, 10, 15 are byte-identical (items 5-9); "
        "stop after two answers without a new URL"
    ),
    "pg": "name is P&amp;G in markup; one title holds P&amp;G; no-script paging without a.next",
    "samsung": 'one card dated `<time datetime="TBC">TBC</time>` (article page says TBC too)',
    "toyota": "one card without `<time>` (its article page still carries a date)",
    "visa": (
        "btn-more offset 0: first answer repeats the 6 page cards; 2 < count ends it; "
        "shares one article with Alibaba"
    ),
}

# --------------------------------------------------------------------------------------
# News items per partner, newest first: "date | label | title[ | option ...]".
# Links are /ioc/news/<slug of the title>. Options: absolute (link written as
# https://olympics.com/ioc/news/...), external=URL (link to another host), nolink, notime,
# mixed (label and title broken by runs of spaces and tabs), relimg (relative image URL),
# entities (card title written with numeric character references).
# --------------------------------------------------------------------------------------

SHARED = (
    "08 Feb 2018 | PyeongChang 2018 | Worldwide Olympic Partners unite to support athletes at "
    "PyeongChang 2018"
)

CHRIS_TUNG = (
    "/ioc/news/-much-more-than-a-sponsorship-alibaba-s-chris-tung-hails-top-partnership"
    "-as-company-looks-ahead-to-tokyo-2020"
)

ITEMS = {
    "airbnb": [],
    "alibaba": [
        (
            "22 Jul 2021 | Tokyo 2020 | Alibaba’s Tokyo 2020 innovations helping transform Olympic "
            "Games for digital era"
        ),
        (
            "06 May 2021 | IOC News | Alibaba’s Selina Yuan: “The Olympic Games are one of the "
            "most powerful platforms for equality” | entities"
        ),
        (
            "15 Mar 2021 | Paris 2024 | AliExpress rewarding consumers for Le Club Paris 2024 "
            "challenges"
        ),
        "30 Jul 2020 | Paris 2024 | Worldwide TOP Partner Alibaba supports Le Club for Paris 2024",
        "27 Jul 2020 | Tokyo 2020 | IOC launches Tokyo 2020 portal on Alibaba’s Tmall",
        (
            "18 Jan 2020 | Lausanne 2020 | Digital marketplace AliExpress showcasing Lausanne 2020 "
            "to fans around the world"
        ),
        (
            "20 Sep 2019 | Tokyo 2020 | “Much more than a sponsorship”: Alibaba’s Chris Tung hails "
            "TOP Partnership as company looks ahead to Tokyo 2020"
        ),
        (
            "18 Jul 2019 | Beijing 2022 | Beijing 2022 ticketing solutions to be provided by "
            "Alibaba Group"
        ),
        "22 Jan 2019 | IOC News | IOC welcomes Alibaba Executive Chairman Jack Ma to Lausanne",
        # load more, offset 9
        (
            "09 Jan 2019 | Olympic Channel | Olympic Channel and Alibaba bring Olympic content to "
            "fans across China"
        ),
        (
            "12 Dec 2018 | IOC News | Alibaba Group’s Daniel Zhang visits Olympic House "
            "construction site"
        ),
        (
            "21 Nov 2018 | Olympic Agenda 2020 | IOC & Alibaba Cloud to develop “Olympic Brain” "
            "data platform"
        ),
        "26 Oct 2018 | Beijing 2022 | Alibaba’s cloud technology to power Beijing 2022 operations",
        (
            "12 Oct 2018 | Buenos Aires 2018 | Alibaba brings digital fan experiences to Buenos "
            "Aires 2018"
        ),
        (
            "20 Sep 2018 | IOC News | OBS and Alibaba Cloud launch OBS Cloud to transform Olympic "
            "broadcasting | absolute"
        ),
        (
            "30 Aug 2018 | Olympic Channel | Alibaba’s Youku to stream Olympic Channel content in "
            "China"
        ),
        "10 Jul 2018 | IOC News | Alibaba hosts IOC delegation at Hangzhou headquarters",
        (
            "25 Feb 2018 | PyeongChang 2018 | Alibaba closes first Olympic Winter Games as "
            "Worldwide TOP Partner"
        ),
        # load more, offset 18
        (
            "15 Feb 2018 | PyeongChang 2018 | Alibaba’s “Olympic Cloud” showcased at PyeongChang "
            "2018 Olympic Experience"
        ),
        SHARED,
        (
            "05 Feb 2018 | PyeongChang 2018 | Alibaba opens showcase pavilion in Gangneung Olympic "
            "Park"
        ),
        "18 Jan 2018 | IOC News | Alibaba and IOC mark first anniversary of long-term partnership",
        (
            "04 Dec 2017 | Sustainability | Alibaba and the IOC explore cloud solutions for "
            "sustainable Games"
        ),
        "14 Nov 2017 | IOC News | IOC President Bach meets Jack Ma & Daniel Zhang in Hangzhou",
        (
            "22 Oct 2017 | Olympic Agenda 2020 | Digital transformation of the Olympic Games on "
            "the agenda at IOC–Alibaba workshop"
        ),
        (
            "30 Jun 2017 | Olympic Channel | Olympic Channel partners with Alibaba to reach fans "
            "in China"
        ),
        (
            "11 May 2017 | IOC News | Alibaba’s Jack Ma: “We want to help the Olympic Movement "
            "reach the next generation”"
        ),
        # load more, offset 27 (4 items: shorter than count)
        "06 Apr 2017 | IOC News | Alibaba Group joins IOC digital working group",
        (
            "15 Mar 2017 | Olympic Agenda 2020 | Alibaba’s cloud expertise to support Olympic "
            "Agenda 2020 goals"
        ),
        "10 Feb 2017 | IOC News | IOC and Alibaba begin work on Olympic “cloud services” roadmap",
        "19 Jan 2017 | IOC News | Alibaba Group and IOC announce long-term partnership until 2028",
    ],
    "allianz": [
        "05 Aug 2021 | Tokyo 2020 | Allianz celebrates Olympians and Paralympians at Tokyo 2020",
        (
            "30 Apr 2021 | Beijing 2022 | Allianz to insure Beijing 2022 venues as Worldwide "
            "Olympic Partner | mixed"
        ),
        (
            "11 Feb 2021 | IOC News | Allianz begins Worldwide Olympic and Paralympic insurance "
            "partnership"
        ),
        (
            "28 Sep 2020 | Olympic Agenda 2020 | Allianz and IOC team up on athlete mental health "
            "support | mixed"
        ),
        "16 Jun 2020 | Sustainability | Allianz commits to carbon-neutral Olympic operations",
        "23 Jan 2020 | IOC News | Allianz prepares to join TOP Programme from 2021",
        "24 Sep 2018 | IOC News | IOC and IPC announce Allianz as Worldwide Insurance Partner",
    ],
    "atos": [
        "29 Jul 2021 | Tokyo 2020 | Atos keeps Tokyo 2020 results flowing to billions of fans",
        "12 Jul 2021 | Tokyo 2020 | Atos completes final technical rehearsal for Tokyo 2020",
        "18 May 2021 | Beijing 2022 | Atos moves Beijing 2022 IT systems to the cloud",
        "10 Mar 2021 | Paris 2024 | Atos and Paris 2024 begin building the Games’ digital backbone",
        "02 Dec 2020 | IOC News | Atos marks 30 years of Olympic technology leadership",
        "15 Sep 2020 | Tokyo 2020 | Atos adapts Tokyo 2020 systems after Games postponement",
        "22 Jun 2020 | Sustainability | Atos cuts energy use of Olympic data centres",
        (
            "19 Feb 2020 | Olympic Agenda 2020 | Atos delivers cybersecurity centre for the "
            "Olympic Games"
        ),
        "22 Jan 2020 | Lausanne 2020 | Atos powers results for Lausanne 2020 Youth Olympic Games",
        "08 Oct 2019 | Tokyo 2020 | Atos opens Tokyo 2020 Technology Operations Centre",
        # load more, offset 10
        "24 Jun 2019 | Tokyo 2020 | Atos tests Tokyo 2020 accreditation system",
        "20 Mar 2019 | IOC News | Atos extends TOP Partnership with IOC until 2024",
        (
            "18 Oct 2018 | Buenos Aires 2018 | Atos delivers first cloud-based Youth Olympic Games "
            "at Buenos Aires 2018"
        ),
        "26 Feb 2018 | PyeongChang 2018 | Atos: “Zero impact” IT operations at PyeongChang 2018",
        "09 Feb 2018 | PyeongChang 2018 | Atos’ IT team ready for PyeongChang 2018 opening",
        (
            "30 Nov 2017 | PyeongChang 2018 | 200 days of testing: Atos completes PyeongChang 2018 "
            "technical rehearsals"
        ),
        "14 Sep 2017 | Beijing 2022 | Atos & Beijing 2022 sign IT services agreement",
        "20 Jun 2017 | IOC News | Atos opens Olympic Games integration lab in Barcelona",
        (
            "06 Apr 2017 | Olympic Agenda 2020 | Atos supports IOC digital strategy under Olympic "
            "Agenda 2020"
        ),
        "17 Jan 2017 | IOC News | Atos welcomes new IOC technology director",
    ],
    "bridgestone": [
        (
            "15 Jul 2021 | Tokyo 2020 | Bridgestone’s “Chase Your Dream” campaign celebrates Tokyo "
            "2020 athletes"
        ),
        (
            "20 Apr 2021 | IOC News | Bridgestone mobility solutions to support Games-time "
            "transport | absolute"
        ),
        (
            "09 Nov 2020 | Sustainability | Bridgestone unveils sustainable bicycle fleet for "
            "Olympic venues | external=https://www.bridgestone.com/corporate/news/2020110901.html"
        ),
        (
            "23 Jul 2019 | Tokyo 2020 | Bridgestone marks one year to go to Tokyo 2020 with "
            "athlete ambassadors"
        ),
        "16 Mar 2017 | IOC News | Bridgestone extends Worldwide TOP Partnership to 2024",
    ],
    "coca-cola": [
        (
            "01 Jul 2021 | Tokyo 2020 | Coca-Cola to provide refreshment for Tokyo 2020 athletes "
            "and staff"
        ),
        (
            "18 Feb 2021 | Sustainability | Coca-Cola’s recycled bottles to be used at Olympic "
            "Games venues | relimg"
        ),
        "10 Dec 2020 | IOC News | The Coca-Cola Company and IOC celebrate 92 years of partnership",
        (
            "29 Sep 2020 | Paris 2024 | Coca-Cola and Paris 2024 discuss Games-time sustainability "
            "goals | relimg"
        ),
        (
            "24 Jun 2019 | IOC News | Coca-Cola and Mengniu sign joint Olympic partnership through "
            "to 2032 | relimg"
        ),
        (
            "07 Feb 2018 | PyeongChang 2018 | Coca-Cola Olympic Torch Relay brings the flame to "
            "communities across Korea"
        ),
    ],
    "dow": [
        (
            "21 Jun 2021 | Sustainability | Dow carbon mitigation programme delivers results for "
            "Tokyo 2020"
        ),
        "14 Oct 2020 | Tokyo 2020 | Dow materials help build Tokyo 2020 venues | relimg",
        "03 Apr 2019 | Sustainability | Dow named Official Carbon Partner of the IOC",
        (
            "15 Feb 2018 | PyeongChang 2018 | Dow’s carbon programme offsets PyeongChang 2018 "
            "emissions"
        ),
    ],
    "intel": [
        "23 Jul 2021 | Tokyo 2020 | Intel 3D Athlete Tracking to debut at Tokyo 2020",
        "02 Apr 2021 | Beijing 2022 | Intel and Beijing 2022 to bring 5G to Games venues",
        "10 Dec 2020 | IOC News | Intel True View brings fans closer to Olympic action | nolink",
        (
            "09 Feb 2018 | PyeongChang 2018 | Intel drone light show sets world record at "
            "PyeongChang 2018 Opening Ceremony"
        ),
        "21 Jun 2017 | IOC News | Intel joins TOP Programme through to 2024",
    ],
    "omega": [
        "08 Aug 2021 | Tokyo 2020 | Omega completes record-breaking timing operation at Tokyo 2020",
        "23 Jun 2021 | Tokyo 2020 | Omega unveils new timing technology for Tokyo 2020",
        "04 Feb 2021 | Beijing 2022 | Omega starts one-year countdown clock for Beijing 2022",
        "26 Nov 2020 | Paris 2024 | Omega confirmed as Official Timekeeper of Paris 2024",
        "24 Jun 2020 | IOC News | Omega celebrates Olympic Day with virtual timing challenge",
        "22 Jan 2020 | Lausanne 2020 | Omega times every race at Lausanne 2020",
        # no-script page 2
        "24 Jul 2019 | Tokyo 2020 | Omega unveils Tokyo 2020 countdown clock one year out",
        (
            "03 Jun 2019 | IOC News | Omega’s Olympic timekeeping history on show at The Olympic "
            "Museum | relimg"
        ),
        "17 Oct 2018 | Buenos Aires 2018 | Omega tests new motion sensors at Buenos Aires 2018",
        "25 Feb 2018 | PyeongChang 2018 | Omega’s timekeepers wrap up PyeongChang 2018",
        (
            "09 Feb 2018 | PyeongChang 2018 | Omega brings new ice hockey timing system to "
            "PyeongChang 2018"
        ),
        "21 Nov 2017 | IOC News | Omega extends Official Timekeeper role through to 2032",
        # no-script page 3
        (
            "12 Sep 2017 | Olympic Agenda 2020 | Omega & IOC share Olympic heritage through new "
            "exhibition"
        ),
        "14 Jun 2017 | IOC News | Omega marks 85 years as Official Olympic Timekeeper",
        (
            "09 Feb 2017 | PyeongChang 2018 | One year to go: Omega countdown clock starts ticking "
            "in PyeongChang"
        ),
    ],
    "panasonic": [
        (
            "27 Jul 2021 | Tokyo 2020 | Panasonic projection technology lights up Tokyo 2020 "
            "ceremonies"
        ),
        "11 May 2021 | Beijing 2022 | Panasonic to supply audio-visual equipment for Beijing 2022",
        (
            "17 Dec 2020 | Tokyo 2020 | Panasonic’s hydrogen fuel cells to power Tokyo 2020 "
            "Olympic Village"
        ),
        "05 Aug 2020 | IOC News | Panasonic extends TOP Partnership to 2024",
        "20 Nov 2019 | Tokyo 2020 | Panasonic unveils 8K broadcasting equipment for Tokyo 2020",
        # load more (every offset answers these)
        "22 Feb 2018 | PyeongChang 2018 | Panasonic’s 4K screens bring PyeongChang 2018 to life",
        (
            "02 Feb 2018 | PyeongChang 2018 | Panasonic installs giant screens at PyeongChang 2018 "
            "venues"
        ),
        "29 Nov 2017 | IOC News | Panasonic celebrates 30 years as Worldwide Olympic Partner",
        "18 Jul 2017 | Olympic Agenda 2020 | Panasonic & IOC explore new broadcast technologies",
        "14 Mar 2017 | Tokyo 2020 | Panasonic’s “Wonders!” campaign counts down to Tokyo 2020",
    ],
    "pg": [
        "19 Jul 2021 | Tokyo 2020 | P&G’s “Thank You, Mom” campaign returns for Tokyo 2020",
        (
            "03 Mar 2021 | Sustainability | Athletes and mums unite in new Olympic sustainability "
            "campaign"
        ),
        "12 Feb 2020 | IOC News | Olympic mums share their stories in new partner film series",
        (
            "25 Jan 2018 | PyeongChang 2018 | “Love Over Bias” film premieres ahead of PyeongChang "
            "2018"
        ),
    ],
    "samsung": [
        "21 Jul 2021 | Tokyo 2020 | Samsung Galaxy phones for every Tokyo 2020 athlete",
        "TBC | Beijing 2022 | Samsung to launch Beijing 2022 athlete smartphone programme",
        "09 Sep 2020 | IOC News | Samsung and IOC extend partnership through to 2028",
        (
            "29 Mar 2019 | Olympic Agenda 2020 | Samsung’s Olympic Rendezvous brings fans together "
            "in Tokyo"
        ),
        (
            "10 Feb 2018 | PyeongChang 2018 | Samsung Olympic Showcase opens in PyeongChang 2018 "
            "Olympic Park"
        ),
    ],
    "toyota": [
        (
            "30 Jul 2021 | Tokyo 2020 | Toyota e-Palette vehicles move athletes around Tokyo 2020 "
            "Olympic Village"
        ),
        "19 Mar 2021 | IOC News | Toyota’s “Start Your Impossible” campaign celebrates Olympians",
        (
            "10 Nov 2020 | Beijing 2022 | Toyota to provide hydrogen vehicles for Beijing 2022 | "
            "notime"
        ),
        "18 Jul 2019 | Tokyo 2020 | Toyota unveils Tokyo 2020 mobility fleet",
        "13 Mar 2017 | IOC News | Toyota begins Worldwide TOP Partnership with mobility focus",
    ],
    "visa": [
        "18 Jun 2021 | Tokyo 2020 | Team Visa athletes ready to shine at Tokyo 2020",
        "25 Mar 2021 | IOC News | Visa extends support for the Olympic Refuge Foundation",
        "12 Jan 2021 | Paris 2024 | Visa to make payments contactless across Paris 2024 venues",
        "04 Nov 2020 | Beijing 2022 | Visa unveils Beijing 2022 payment innovations",
        "20 Aug 2020 | Tokyo 2020 | Visa wearable payment ring to debut at Tokyo 2020",
        "14 Feb 2020 | IOC News | Visa and IOC celebrate 35 years of partnership",
        # load more, offset 6 (offset 0 repeats the six above)
        "24 Jul 2019 | Tokyo 2020 | Team Visa welcomes new athletes one year out from Tokyo 2020",
        "06 Oct 2018 | Buenos Aires 2018 | Visa brings cashless payments to Buenos Aires 2018",
        SHARED,
        (
            "22 Jan 2018 | PyeongChang 2018 | Visa payment gloves and stickers ready for "
            "PyeongChang 2018"
        ),
        "14 Dec 2017 | IOC News | Visa and IOC extend partnership through to 2032",
        (
            "07 Nov 2017 | Olympic Agenda 2020 | Team Visa programme expands to support Olympic "
            "hopefuls"
        ),
        # load more, offset 12 (2 items: shorter than count)
        (
            "19 Sep 2017 | PyeongChang 2018 | Visa unveils limited-edition PyeongChang 2018 "
            "prepaid cards"
        ),
        "20 Apr 2017 | IOC News | Team Visa brings Olympians into classrooms",
    ],
}


# --------------------------------------------------------------------------------------
# Site menu (from the seed page), top bar and footer.
# A column is (heading or None, links, *sub-groups); a sub-group is (sub-heading, links).
# --------------------------------------------------------------------------------------

OG = "https://olympics.com/en/olympic-games"

MENUS: list[tuple[str, list[Any]]] = [
    (
        "IOC",
        [
            (
                "Principles and Missions",
                [
                    ("/ioc/mission", "Mission"),
                    ("/ioc/olympic-values", "Olympic values"),
                    ("/ioc/olympic-rings", "Olympic rings"),
                    ("/ioc/olympic-charter", "Olympic Charter"),
                    ("/ioc/olympic-motto", "Olympic motto"),
                    ("/ioc/olympic-anthem", "Olympic anthem"),
                    ("/ioc/olympic-agenda-2020", "Olympic Agenda 2020"),
                    ("/ioc/olympic-agenda-2020-plus-5", "Olympic Agenda 2020+5"),
                ],
            ),
            (
                "Organisation",
                [
                    ("/ioc/president", "President"),
                    ("/ioc/members", "Members"),
                    ("/ioc/executive-board", "Executive Board"),
                    ("/ioc/commissions", "Commissions"),
                    ("/ioc/sessions", "Sessions"),
                    ("/ioc/congresses", "Congresses"),
                    ("/ioc/administration", "Administration"),
                    ("/ioc/careers", "Careers"),
                    ("/ioc/events", "Events"),
                    ("/ioc/olympic-house", "Olympic House"),
                    ("/ioc/publications", "Publications"),
                ],
            ),
            (
                "IOC History",
                [
                    ("/ioc/pierre-de-coubertin", "Pierre de Coubertin"),
                    ("/ioc/ancient-olympic-games", "Ancient Games"),
                ],
            ),
            (
                "Finance",
                [
                    ("/ioc/funding", "Funding"),
                    ("/ioc/licensing", "Licencing"),
                    ("/ioc/ticketing", "Ticketing"),
                    ("/ioc/suppliers", "Suppliers"),
                    ("/ioc/philatelic-and-numismatic", "Philatelic and Numismatic"),
                ],
            ),
        ],
    ),
    (
        "Olympic Games",
        [
            (
                "Olympic Games",
                [
                    (f"{OG}/tokyo-2020", "Tokyo 2020"),
                    (f"{OG}/beijing-2022", "Beijing 2022"),
                    (f"{OG}/paris-2024", "Paris 2024"),
                    (f"{OG}/milano-cortina-2026", "Milano Cortina 2026"),
                    (f"{OG}/los-angeles-2028", "Los Angeles 2028"),
                    (f"{OG}/brisbane-2032", "Brisbane 2032"),
                    (OG, "Past Olympic Games"),
                    ("/ioc/future-host-election", "Future Host Election"),
                    ("/ioc/past-host-elections", "Past Host Elections"),
                    ("/ioc/the-new-norm", "New Norm"),
                ],
            ),
            (
                "Youth Olympic Games",
                [
                    (f"{OG}/gangwon-2024", "Gangwon 2024"),
                    (f"{OG}/dakar-2026", "Dakar 2026"),
                ],
            ),
            (
                "Olympic Legacy",
                [
                    ("/ioc/legacy/legacy-through-youth", "Legacy through youth"),
                    ("/ioc/legacy/candidature-legacies", "Candidature Legacies"),
                ],
            ),
        ],
    ),
    (
        "Athletes",
        [
            (
                None,
                [
                    ("https://olympics.com/athlete365/", "Athletes' community"),
                    ("/ioc/educational-tools", "Educational Tools"),
                    ("/ioc/fight-against-doping", "Fight Against Doping"),
                    ("/ioc/healthy-body-image", "Healthy Body Image"),
                    ("/ioc/medical-research", "Medical Research"),
                    ("/ioc/safeguarding", "Safe Sport"),
                ],
            ),
        ],
    ),
    (
        "Olympic Movement",
        [
            (
                None,
                [
                    ("/ioc/national-olympic-committees", "National Olympic Committees"),
                    ("/ioc/noc-associations", "NOC Associations"),
                    ("/ioc/international-federations", "International Sports Federations"),
                    (
                        "/ioc/associations-of-international-federations",
                        "Associations of International\n\t\t\t\t\t\t\t\t\t\tSport Federations",
                    ),
                    (
                        "/ioc/organising-committees",
                        "Organising Committees for the\n          Olympic Games",
                    ),
                    ("/ioc/partners", "The Olympic Partners programme"),
                    ("/ioc/broadcasters", "Broadcasters"),
                    ("/ioc/governing-bodies", "Governing Bodies"),
                ],
            ),
        ],
    ),
    (
        "Beyond the Games",
        [
            (
                None,
                [
                    ("/ioc/art-culture-and-heritage", "Art, Culture and Heritage"),
                    ("/ioc/education", "Education"),
                    ("/ioc/gender-equality", "Gender Equality in Sport"),
                    ("/ioc/human-rights", "Human Rights"),
                    ("/ioc/integrity", "Integrity"),
                    ("/ioc/olympic-day", "Olympic Day"),
                    ("/ioc/olympic-solidarity", "Olympic Solidarity"),
                    ("/ioc/peace-and-development", "Peace & development"),
                    ("/ioc/refugees", "Refugees"),
                    ("/ioc/sport-and-active-society", "Sport and Active Society"),
                    ("/ioc/sustainability", "Sustainability"),
                    ("/ioc/young-leaders", "Young Leaders"),
                ],
            ),
        ],
    ),
    (
        "Media",
        [
            (
                None,
                [
                    ("/ioc/media/press-releases", "Press releases"),
                    ("/ioc/media/statements", "IOC Statements"),
                    ("/ioc/media/accreditation", "Media Accreditation"),
                    ("/ioc/events-calendar", "Event Calendar"),
                ],
            ),
        ],
    ),
    (
        "News",
        [
            (
                "International Olympic Committee",
                [
                    ("/ioc/news", "IOC News"),
                    ("/ioc/news?category=ioc-statements", "IOC Statements"),
                    ("/ioc/news?category=olympic-agenda", "Olympic Agenda"),
                    ("/ioc/news?category=olympic-highlights", "Olympic Highlights"),
                    ("/ioc/news?category=press-releases", "Press Releases"),
                    ("/ioc/news?category=olympic-studies-centre", "Olympic Studies Centre"),
                ],
            ),
            (
                "Olympic Games",
                [
                    ("/ioc/news?category=tokyo-2020", "Tokyo 2020"),
                    ("/ioc/news?category=beijing-2022", "Beijing 2022"),
                    ("/ioc/news?category=paris-2024", "Paris 2024"),
                    ("/ioc/news?category=milano-cortina-2026", "Milano Cortina 2026"),
                    ("/ioc/news?category=la-2028", "LA 2028"),
                ],
                (
                    "Youth Olympic Games",
                    [
                        ("/ioc/news?category=gangwon-2024", "Gangwon 2024"),
                        ("/ioc/news?category=dakar-2026", "Dakar 2026"),
                    ],
                ),
            ),
            (
                "Beyond the Games",
                [
                    ("/ioc/news?category=culture-and-heritage", "Culture and heritage"),
                    ("/ioc/news?category=fight-against-doping", "Fight against doping"),
                    ("/ioc/news?category=gender-equality", "Gender equality"),
                    ("/ioc/news?category=legacy", "Legacy"),
                    ("/ioc/news?category=refugee-olympic-team", "Refugee Olympic Team"),
                    ("/ioc/news?category=sustainability", "Sustainability"),
                ],
            ),
            ("TOP", [(f"/ioc/{slug}", name) for slug, name, _ in PARTNERS]),
        ],
    ),
    (
        "Documents",
        [
            (
                None,
                [
                    (
                        "/ioc/documents/international-olympic-committee",
                        "International Olympic Committee",
                    ),
                    ("/ioc/documents/olympic-games", "Olympic Games"),
                    ("/ioc/documents/athletes", "Athletes"),
                    ("/ioc/documents/olympic-movement", "Olympic Movement"),
                    ("/ioc/documents/beyond-the-games", "Beyond the Games"),
                    ("/ioc/documents/media", "Media"),
                ],
            ),
        ],
    ),
]

SITES_BAR = [
    ("https://olympics.com/en/", "Olympics"),
    ("https://olympics.com/museum", "Museum"),
    ("https://olympics.com/athlete365/", "Athlete 365"),
    ("https://olympics.com/ioc/olympic-studies-centre", "Olympic Studies Centre"),
    ("https://olympics.com/ioc/olympic-refuge-foundation", "Olympic Refuge Foundation"),
    (f"{OG}/beijing-2022", "Beijing 2022"),
    ("https://shop.olympics.com/", "Shop"),
]

FOOTER = [
    (
        "International Olympic Committee",
        [
            ("/ioc/mission", "Principles and Mission"),
            ("/ioc/organisation", "Organisation"),
            ("/ioc/events-calendar", "Events calendar"),
            ("/ioc/careers", "Careers"),
            ("/ioc/publications", "IOC Publications"),
        ],
    ),
    (
        "Explore",
        [
            ("/ioc/athletes", "Athletes"),
            ("/ioc/olympic-games", "Olympic Games"),
            ("/ioc/olympic-movement", "Olympic Movement"),
            ("/ioc/partners", "TOP"),
        ],
    ),
    (
        "Beyond the Games",
        [
            ("/ioc/fight-against-doping", "Fight Against Doping"),
            ("/ioc/gender-equality", "Gender Equality"),
            ("/ioc/legacy", "Legacy"),
            ("/ioc/refugees", "Refugees"),
            ("/ioc/sustainability", "Sustainability"),
        ],
    ),
    (
        "Media",
        [
            ("/ioc/media/press-releases", "Press releases"),
            ("/ioc/media/statements", "Statements"),
            ("/ioc/media/accreditation", "Media Accreditation"),
            ("/ioc/news", "News"),
            ("/ioc/media/subscribe", "Subscribe to press releases"),
        ],
    ),
    (
        "More Olympic sites",
        [
            ("https://olympics.com/en/", "Olympics.com"),
            ("https://olympics.com/museum", "Museum"),
            ("https://olympics.com/athlete365/", "Athlete 365"),
            ("https://olympics.com/ioc/olympic-studies-centre", "Olympic Studies Centre"),
            (f"{OG}/tokyo-2020", "Tokyo 2020"),
        ],
    ),
    (
        "Information",
        [
            ("/ioc/cookie-policy", "Cookie Policy"),
            ("#cookie-settings", "Cookie Settings"),
            ("/ioc/privacy-policy", "Privacy Policy"),
            ("/ioc/terms-of-service", "Terms of Service"),
            ("/ioc/faqs", "FAQs"),
            ("/ioc/about-us", "About us"),
            ("/ioc/contact-us", "Contact us"),
        ],
    ),
]

COPYRIGHT = "© 2021 International Olympic Committee. All Rights Reserved."

SOCIAL = [
    ("https://www.facebook.com/iocmedia", "Facebook"),
    ("https://twitter.com/iocmedia", "Twitter"),
    ("https://www.instagram.com/iocmedia", "Instagram"),
    ("https://www.youtube.com/iocmedia", "YouTube"),
]

# --------------------------------------------------------------------------------------
# Article body text (chosen per article from a hash of its slug).
# --------------------------------------------------------------------------------------

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

CITIES = {
    "Tokyo 2020": "Tokyo",
    "Beijing 2022": "Beijing",
    "Paris 2024": "Paris",
    "PyeongChang 2018": "PyeongChang",
    "Lausanne 2020": "Lausanne",
    "Buenos Aires 2018": "Buenos Aires",
}

LEADS = [
    "{title} The news was shared {when}by the International Olympic Committee (IOC), which "
    "works with {partner} as part of The Olympic Partner (TOP) programme.",
    "{title} It is the latest step in the long-term cooperation of {partner} with the "
    "International Olympic Committee (IOC), according to an update published {when}by the "
    "IOC’s news service.",
]

WORD_PARAGRAPHS = [
    "The initiative, known internally as {word}, draws on expertise from {partner} as well "
    "as the wider Olympic Movement, with teams in {city} leading the work.",
    "Behind the scenes, a joint working group coordinated the project under the name {word}, "
    "covering everything from the first concepts in {city} to delivery.",
    "Staff involved referred to the programme as {word}, after the internal workshop in "
    "{city} where IOC specialists and colleagues from {partner} first sketched it out.",
]

HEADINGS = [
    "A long-term commitment",
    "Supporting athletes around the world",
    "Looking ahead",
    "Innovation at the Games",
]

MIDDLES = [
    "IOC President Thomas Bach welcomed the news, saying that the support of the Worldwide "
    "Olympic Partners is essential to the staging of the Olympic Games and to athletes in "
    "every one of the 206 National Olympic Committees.",
    "Through the TOP Programme, {partner} holds exclusive worldwide marketing "
    "rights in its product category, and in turn provides products, services and "
    "expertise that help Organising Committees deliver the Games.",
    "Athletes, National Olympic Committees and Organising Committees all benefit from the "
    "partnership, which the IOC describes as one of the pillars of the Olympic Movement’s "
    "financial stability.",
]

QUOTE = (
    "“The commitment of {partner} shows what can be achieved when the Olympic Movement "
    "and its partners work together,” said an IOC spokesperson."
)

REVENUE = (
    "The IOC is a not-for-profit independent international organisation. It distributes "
    "90 per cent of its revenues to the wider sporting movement, which means that every day "
    "the equivalent of USD 4.2 million goes to help athletes and sports organisations at all "
    "levels around the world."
)

CLOSING = "Further stories about {partner} can be found in the {label} section of IOC News."

CAPTION = "Representatives of {partner} with IOC officials in {city}. Photo: IOC/Greg Martin"

#: An edited body (the changed copy's, :mod:`olyscrape.testing.sitegen.changes`): its third
#: paragraph reworded, and one paragraph added at its end.
REWORDED = (
    "Through the TOP Programme, {partner} holds exclusive worldwide marketing rights in its "
    "product category; in return it supplies the technology, services and staff that help "
    "the Organising Committee of the Games in {city} deliver them."
)
ADDED = (
    "This article was updated a week after it was first published, once {partner} had "
    "confirmed which venues in {city} will be served first."
)

# --------------------------------------------------------------------------------------
# The partners page and the manifest's fixed section.
# --------------------------------------------------------------------------------------

PARTNERS_MAIN = """\t<div class="heading-block">
\t\t<h1>The Olympic Partner Programme</h1>
\t</div>
\t<section class="post-box text-content">
\t\t<p>The Olympic Partner (TOP) Programme is the highest level of Olympic sponsorship,
\t\tgranting exclusive worldwide marketing rights to the Olympic Games.</p>
\t\t<p>News about each Worldwide TOP Partner is listed under News, in the TOP column of
\t\tthe menu.</p>
\t</section>"""

MANIFEST_FACTS = """## Page facts

- Every HTML page carries the same `ul#nav` site menu (IOC, Olympic Games, Athletes,
  Olympic Movement, Beyond the Games, Media, News, Documents). The partners are the
  `div.drop-col` headed `<strong class="title">TOP</strong>`, 4th column of News, 14 links
  `/ioc/<slug>`. Decoys: the footer's Explore column links `TOP` to `/ioc/partners`; the
  Olympic Movement menu links "The Olympic Partners programme" to `/ioc/partners`; many
  other menu links are `/ioc/<word>` paths; News > Olympic Games has a
  `strong.subtitle` sub-heading; five menus have a column without heading.
- Listing pages: `h1` is the partner name wrapped in whitespace; cards sit in
  `div.ajax-area > div.ajax-content`; pages with `btn-more` also carry a
  `script#newsthumbMed_tmpl` (jQuery template text, no elements).
- Cards rotate three text layouts (one line; label and title wrapped with tab runs; title
  on its own line), four `ld+json` bodies (one of them, `\\n}`, is not JSON, as in the real
  excerpt), an IE conditional comment in some, and `alt` set to the title in some.
- Article pages: `dd` date is the card date upper-cased (`22 JUL 2021`; `TBC` stays `TBC`);
  Tags `dd` links each partner and the label; 3 to 5 direct `p` children of the section,
  one `h2`, sometimes a `blockquote > p` and a `div.image` with `span.caption`, both placed
  after the second `p`.
"""
