"""Scrapy extensions of olyscrape."""
