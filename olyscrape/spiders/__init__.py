"""olyscrape's spiders."""
