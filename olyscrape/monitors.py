"""Checks run when a crawl closes (Spidermon monitors), and what happens when one fails.

A failing check names the partner and the check; the crawl then exits non-zero, its
``crawls`` row says ``failed`` with the reasons, and an optional alert is sent. Nothing
archived is touched: the checks only read the crawl's stats and the archive's history.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import subprocess
import urllib.parse
import urllib.request
from typing import Any, ClassVar

from spidermon import Monitor, MonitorSuite, monitors
from spidermon.core.actions import Action

from olyscrape import crawlstats
from olyscrape.addon import setting
from olyscrape.archive.errors import ArchiveError
from olyscrape.extensions.archive import ArchiveKeeper

logger = logging.getLogger(__name__)


class _CrawlMonitor(Monitor):
    @property
    def stats(self) -> dict[str, Any]:
        return self.data.stats

    @property
    def crawl(self) -> crawlstats.CrawlStats:
        return crawlstats.CrawlStats(self.data.stats)

    @property
    def settings(self) -> Any:
        return self.data.crawler.settings

    def partner_stat(self, partner: str, name: str) -> int:
        return self.crawl.count(name, partner)

    @property
    def partners(self) -> list[str]:
        return self.crawl.partners

    def skip_if_interrupted(self) -> None:
        """A crawl stopped from outside (Ctrl-C, SIGTERM) never reached some listings: what
        they show is not judged (it said "no card ... did the markup change?" for partners
        it never walked). The crawl is recorded ``interrupted``; the next one completes it."""
        if self.crawl.finish_reason in crawlstats.INTERRUPTED_REASONS:
            self.skipTest("the crawl was interrupted: its listings are not judged")


@monitors.name("Partner cards")
class PartnerCardsMonitor(_CrawlMonitor):
    @monitors.name("partners that had cards still show cards")
    def test_partners_that_had_cards_still_show_cards(self) -> None:
        """A listing with no card for a partner that had cards means the markup changed."""
        self.skip_if_interrupted()
        lost = [
            f"partner {p}: no card on its listing page, {self.partner_stat(p, 'known')} archived"
            " before (did the markup change?)"
            for p in self.partners
            if self.partner_stat(p, "known") and not self.partner_stat(p, "listing_cards")
        ]
        if lost:
            self.fail("; ".join(lost))

    @monitors.name("listing cards did not fall")
    def test_listing_cards_did_not_fall(self) -> None:
        """Cards on the first listing pages (read by every crawl, full or incremental)
        against the last successful crawl, partner by partner."""
        self.skip_if_interrupted()
        keeper = ArchiveKeeper.of(self.data.crawler)
        if not keeper.opened:
            return  # the archive was refused; the crawl has failed already
        try:
            last = keeper.previous_crawl_stats()
        except ArchiveError as exc:  # the check's own line, never Spidermon's bare "None"
            self.fail(f"the last successful crawl cannot be read: {exc}")
        previous = _previous_cards(last, self.partners)
        max_drop = setting(self.settings, "OLYSCRAPE_MONITOR_MAX_DROP")
        fallen = []
        for p in self.partners:
            before = previous.get(p, 0)
            now = self.partner_stat(p, "listing_cards")
            if before and now < before * (1 - max_drop):
                fallen.append(f"partner {p}: {now} cards on its listing page, {before} last time")
        if fallen:
            self.fail(f"fell by more than {max_drop:.0%}: " + "; ".join(fallen))


def _previous_cards(previous: dict[str, Any] | None, partners: list[str]) -> dict[str, int]:
    """Per partner, the listing cards of the last successful crawl; none to compare (and a
    log line) when that crawl's stored stats cannot be read."""
    try:
        if previous is None:
            raise ValueError("not a JSON object")
        stats = crawlstats.CrawlStats(previous)
        return {p: stats.count("listing_cards", p) for p in partners}
    except (ValueError, TypeError, AttributeError):
        logger.warning(
            "the last successful crawl's stats in the archive are unreadable (not the JSON"
            " a crawl writes): no previous crawl to compare listing cards against"
        )
        return {}


@monitors.name("Field coverage")
class FieldCoverageMonitor(_CrawlMonitor):
    def _coverage(self, name: str) -> float | None:
        linked = int(self.stats.get(crawlstats.COVERAGE_LINKED, 0))
        return int(self.stats.get(crawlstats.coverage_key(name), 0)) / linked if linked else None

    @monitors.name("every linked card has a title")
    def test_titles(self) -> None:
        self.skip_if_interrupted()
        coverage = self._coverage("title")
        if coverage is not None and coverage < 1.0:
            self.fail(f"only {coverage:.1%} of linked cards have a title")

    @monitors.name("enough cards have a date")
    def test_dates(self) -> None:
        self.skip_if_interrupted()
        coverage = self._coverage("published")
        minimum = setting(self.settings, "OLYSCRAPE_MONITOR_MIN_PUBLISHED")
        if coverage is not None and coverage < minimum:
            self.fail(f"only {coverage:.1%} of linked cards have a date (< {minimum:.0%})")


@monitors.name("Requests")
class RequestsMonitor(_CrawlMonitor):
    @monitors.name("every discovery, listing and load-more request succeeded")
    def test_no_failed_requests(self) -> None:
        failures = self.crawl.failures
        described = [
            f"{f['kind']} {f['url']}" + (f" (partner {f['partner']})" if f.get("partner") else "")
            + f": {f['reason']}"
            for f in failures
        ]  # fmt: skip
        if described:
            self.fail("; ".join(described))

    @monitors.name("the crawl finished")
    def test_finish_reason(self) -> None:
        reason = self.crawl.finish_reason
        if reason != "finished":
            self.fail(f"the crawl ended early: {reason}")


class RecordFailures(Action):
    """Put each failed check in the stats, where the crawl record and the summary read it."""

    def run_action(self) -> None:
        if self.data.crawler.stats.get_value("finish_reason") == crawlstats.UNKNOWN_PARTNER:
            return  # a usage error, which the command reports in one line: no crawl to judge
        failures = [
            f"{result.item.monitor_name} / {result.item.method_name}: {result.reason}"
            for result in self.result.monitors_failed_results
        ]
        stats = self.data.crawler.stats
        stats.set_value(crawlstats.MONITOR_FAILURES, failures)
        if crawlstats.unreachable(stats.get_stats()):  # each check failed for that alone
            logger.error(
                "the site is unreachable: %s", crawlstats.unreachable_line(stats.get_stats())
            )
            return
        for failure in failures:
            logger.error("check failed: %s", failure)


#: Words a shell would read as operators: the alert command is not run by a shell, so
#: each would reach the program as a plain argument.
SHELL_OPERATORS = frozenset({"|", "||", "&", "&&", ";", ">", ">>", "<", "<<", "2>", "2>&1"})


def command_problem(command: str) -> str | None:
    """What keeps ``command`` (``--alert-command``, ``OLYSCRAPE_ALERT_COMMAND``) from
    running as an alert, or None: it is split into words as a shell line would be
    (:func:`shlex.split`) but run without a shell, so it must parse, name a program that
    exists and is executable (on ``PATH`` unless given with a ``/``), and hold no shell
    operator (``|``, ``>``, ``&&``...), which would reach the program as an argument.
    Checked when the crawl starts, not when the first alert fires."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        return f"{command!r} cannot be split into words ({exc})"
    if not words:
        return "an empty command runs nothing"
    operators = [w for w in words if w in SHELL_OPERATORS]
    if operators:
        return (
            f"{command!r}: {operators[0]!r} is a shell operator, and the command is not run by"
            " a shell (wrap it: sh -c '...')"
        )
    program = words[0]
    if "/" in program:
        found = program if os.path.isfile(program) and os.access(program, os.X_OK) else None
    else:
        found = shutil.which(program)
    if found is None:
        where = "is not an executable file" if "/" in program else "is not found on PATH"
        return f"{command!r}: {program} {where}"
    return None


def webhook_problem(url: str) -> str | None:
    """What keeps ``url`` (``--alert-webhook``) from being POSTed to, or None: an http or
    https URL with a host, and no spaces."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        return f"{url!r} is not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        return f"{url!r} is not an http:// or https:// URL with a host"
    return None


def _run_command(command: str, text: str) -> None:
    result = subprocess.run(
        shlex.split(command), input=text, text=True, timeout=60, capture_output=True
    )
    if result.returncode:
        said = (result.stderr or result.stdout).strip().splitlines()
        raise OSError(f"exit status {result.returncode}" + (f": {said[-1]}" if said else ""))


def _post(webhook: str, report: dict[str, Any]) -> None:
    request = urllib.request.Request(
        webhook, data=json.dumps(report).encode(), headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=30).close()


class SendAlert(Action):
    """Send the failure report to ``OLYSCRAPE_ALERT_COMMAND`` (stdin) and POST it as JSON to
    ``OLYSCRAPE_ALERT_WEBHOOK``, each on its own: one failing never skips the other. A
    channel that fails is named in ``olyscrape/alert_failures`` (the summary shows it),
    never raised: the crawl's own result stands."""

    def run_action(self) -> None:
        settings = self.data.crawler.settings
        stats = self.data.crawler.stats
        if stats.get_value("finish_reason") == crawlstats.UNKNOWN_PARTNER:
            return  # a usage error, not a crawl to alert about
        if stats.get_value("finish_reason") in crawlstats.INTERRUPTED_REASONS:
            return  # stopped on purpose (Ctrl-C, a supervisor): recorded, not alerted
        report = {
            "crawl_id": stats.get_value(crawlstats.CRAWL_ID),
            "db": setting(settings, "OLYSCRAPE_DB"),
            "failures": stats.get_value(crawlstats.MONITOR_FAILURES) or [],
        }
        text = "olyscrape crawl failed its checks:\n" + "\n".join(
            f"- {f}" for f in report["failures"]
        )
        if crawlstats.unreachable(stats.get_stats()):  # the cause, not its consequences
            line = crawlstats.unreachable_line(stats.get_stats())
            report["unreachable"] = line
            text = f"olyscrape crawl: the site is unreachable: {line}\n"
        channels: list[tuple[str, Any, Any, Any]] = [
            ("command", setting(settings, "OLYSCRAPE_ALERT_COMMAND"), _run_command, text),
            ("webhook", setting(settings, "OLYSCRAPE_ALERT_WEBHOOK"), _post, report),
        ]
        failed = []
        for name, target, send, payload in channels:
            if not target:
                continue
            try:
                send(target, payload)
            except (OSError, ValueError, subprocess.SubprocessError) as exc:
                failed.append(f"alert {name} {target} failed: {exc}")
                logger.error("alert %s %s failed: %s", name, target, exc)
        if failed:
            stats.set_value(crawlstats.ALERT_FAILURES, failed)


class CloseChecks(MonitorSuite):
    """The checks of a closing crawl (``SPIDERMON_SPIDER_CLOSE_MONITORS``)."""

    monitors: ClassVar[list[type[Monitor]]] = [
        PartnerCardsMonitor,
        FieldCoverageMonitor,
        RequestsMonitor,
    ]
    monitors_failed_actions: ClassVar[list[type[Action]]] = [RecordFailures, SendAlert]
