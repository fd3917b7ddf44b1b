"""CSV cells that no spreadsheet runs as a formula (api-contract.md, "CSV exports").

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula (or
can become one) when Excel, LibreOffice or Google Sheets opens the file: a patient registered as
``=HYPERLINK("http://...", "click")`` would put a live link, or worse, in front of an auditor.
Such a cell is written with a leading apostrophe, which every spreadsheet shows as text.

One more character is escaped the same way: the apostrophe itself. Without it, the stored text
``'=x`` and the neutralised text of ``=x`` would be the same cell, and a reader could not tell
them apart. With it the rule is exactly reversible, in both directions, with one list:

- writing (``spreadsheet_cell``): a cell whose first character is one of ``ESCAPED_FIRST``
  (``=`` ``+`` ``-`` ``@`` tab, carriage return, ``'``) gets one leading ``'``;
- reading (``stored_text``): a cell that starts with ``'`` followed by one of ``ESCAPED_FIRST``
  loses that one leading ``'``; every other cell is the stored text as it is.

Amounts are never negative in ``mat``, so no number is changed; a name like ``-Smith`` is.
"""

from __future__ import annotations

ESCAPED_FIRST = ("=", "+", "-", "@", "\t", "\r", "'")


def spreadsheet_cell(text: str) -> str:
    """``text`` as a CSV cell that never starts with a formula character."""
    return "'" + text if text[:1] in ESCAPED_FIRST else text


def stored_text(cell: str) -> str:
    """The text ``spreadsheet_cell`` was given, read back from a CSV cell."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ESCAPED_FIRST else cell
