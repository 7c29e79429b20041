"""Downloader middlewares: where requests are answered from (mirror, replay) and retried."""
