"""taskrouter: a self-hosted task routing engine, drop-in compatible with Twilio TaskRouter v1."""

__version__ = "0.1.0"
