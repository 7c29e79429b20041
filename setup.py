"""Only so that scrapyd-deploy, which builds eggs with setup.py, finds one: the
project itself is described in pyproject.toml."""

from setuptools import setup

setup()
