"""What the commands print, as objects: each has a text for people (``render``), one JSON
object for programs (``to_json``) and, where it judges something, the exit code it means.
``olyscrape.cli.output`` prints them."""
