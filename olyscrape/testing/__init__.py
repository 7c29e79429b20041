"""Test tooling, never used by a crawl: the generator of the saved site that the tests and
the benchmarks crawl (:mod:`olyscrape.testing.sitegen`, its command
:mod:`olyscrape.testing.site`), and the loopback mirror that serves
a saved site, injecting faults on demand (:mod:`olyscrape.testing.mirror`, also behind
``olyscrape mirror``). Like ``scrapy.utils.test`` and ``web_poet.testing``, it ships with
the package so that other projects' tests can use it too.
"""
