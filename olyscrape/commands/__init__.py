"""olyscrape's Scrapy commands (``COMMANDS_MODULE``): ``scrapy crawl``, saying in one line
that the archive is busy."""
