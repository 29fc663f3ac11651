"""The classic RF map (segment -> (R scores, F scores); the first matching segment wins), one
definition for the analytics (``hub.analytics.rfm``, pandas) and the segments
(``hub.automation.rfm``, SQL). Plain data: importing it loads no pandas."""

from __future__ import annotations

RF_SEGMENTS: dict[str, tuple[str, str]] = {
    "champions": ("5", "45"),
    "loyal customers": ("34", "45"),
    "potential loyalists": ("45", "23"),
    "new customers": ("5", "1"),
    "promising": ("4", "1"),
    "need attention": ("3", "3"),
    "about to sleep": ("3", "12"),
    "can't lose": ("12", "5"),
    "at risk": ("12", "34"),
    "hibernating": ("12", "12"),
}
