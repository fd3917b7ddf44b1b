"""Numbers of the clinic's day that several packages share (the window, the reports, stock,
the charts). They live here, not in one package's service, so a reader finds each once and the
README's numbers point to one place. Rule thresholds that a profile may change are in the
profile (``mat/profiles``); these are the limits of the records themselves.
"""

from __future__ import annotations

# A dose may be back-entered (downtime) up to this many days after its date; older gaps are a
# records problem for the program director, not a form to fill in at the window.
LATE_ENTRY_DAYS = 7
# Take-homes are handed out for dates from today up to the longest federal ceiling ahead.
TAKE_HOME_AHEAD_DAYS = 28
