"""Limits on what one request may carry, alike on every face.

Twilio's documented values by default, which Twilio clients rely on; one set per process,
which `taskrouter serve` may change at start (taskrouter.limits reads the flags and variables).
"""

from __future__ import annotations

from dataclasses import dataclass

TWILIO_MAX_ATTRIBUTES = 4096
TWILIO_MAX_PAGE_SIZE = 1000


@dataclass(slots=True)
class RequestLimits:
    max_attributes: int = TWILIO_MAX_ATTRIBUTES  # characters of a task's or worker's JSON
    max_page_size: int = TWILIO_MAX_PAGE_SIZE  # items in one page of a list

    def page_size(self, default: int) -> int:
        """A face's default page size, within the largest allowed."""
        return min(default, self.max_page_size)


REQUEST_LIMITS = RequestLimits()
