"""watchtower: a terminal monitor for social-media incidents."""

__version__ = "0.1.0"
