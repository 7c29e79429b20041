"""What an edit changed, said for reading: the one line of ``changes`` (``title: "Old" →
"New"; body: +2/−1 lines``), and the diff of ``history`` and of an Atom entry (a field as
``- old`` / ``+ new`` lines, the body as a unified diff).

A body is its paragraphs and headings, a blank line between them: the diff compares
paragraphs, each one line, so that a sentence added to a paragraph shows as that paragraph
replaced, and the blank lines between them never count. :mod:`difflib` is enough here:
the texts are a page's words, a few kilobytes, and its unified diff is the form ``diff
-u`` and every reviewer already read.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

#: The fields shown as one value each (a body is shown as a diff).
VALUE_FIELDS = ("title", "published", "category")
#: Context paragraphs around a change in a body's diff.
CONTEXT = 1


def paragraphs(body: str | None) -> list[str]:
    """A body's paragraphs, each one line (blank lines between them dropped)."""
    return [line.strip() for line in (body or "").splitlines() if line.strip()]


def counted(before: str | None, after: str | None) -> tuple[int, int]:
    """Paragraphs added and removed from ``before`` to ``after`` (one replaced: one each)."""
    old, new = paragraphs(before), paragraphs(after)
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


def shown(value: Any) -> str:
    """A field's value as the diffs write it: ``(none)`` for no value."""
    return "(none)" if value is None else str(value)


def summary(fields: Iterable[str], before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """One line of what an edit replaced: ``title: "Old" → "New"; published: A → B; body:
    +N/−M lines`` (lines: paragraphs)."""
    parts = []
    for name in fields:
        old, new = before.get(name), after.get(name)
        if name == "body":
            added, removed = counted(old, new)
            parts.append(f"body: +{added}/−{removed} lines")
        elif name == "title":
            parts.append(f'title: "{shown(old)}" → "{shown(new)}"')
        else:
            parts.append(f"{name}: {shown(old)} → {shown(new)}")
    return "; ".join(parts)


def field_lines(name: str, before: Any, after: Any) -> list[str]:
    """A value field's change as two lines, ``- name: old`` and ``+ name: new``."""
    return [f"- {name}: {shown(before)}", f"+ {name}: {shown(after)}"]


def body_diff(before: str | None, after: str | None, old: str, new: str) -> list[str]:
    """The unified diff of two bodies by paragraph, ``old`` and ``new`` naming each side
    (``version 1``); empty when they hold the same paragraphs."""
    return list(difflib.unified_diff(
        paragraphs(before), paragraphs(after), fromfile=old, tofile=new, lineterm="", n=CONTEXT,
    ))  # fmt: skip


def diff_lines(
    before: Mapping[str, Any], after: Mapping[str, Any], old: str = "before", new: str = "after"
) -> list[str]:
    """Every field that differs from ``before`` to ``after``: the value fields as ``- / +``
    lines, then the body's unified diff."""
    lines: list[str] = []
    for name in VALUE_FIELDS:
        if name in before and name in after and before[name] != after[name]:
            lines += field_lines(name, before[name], after[name])
    if "body" in before and "body" in after and before["body"] != after["body"]:
        lines += body_diff(before["body"], after["body"], old, new)
    return lines
