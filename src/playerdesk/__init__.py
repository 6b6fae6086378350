"""PlayerDesk: player support for online casinos."""

__version__ = "0.1.0"
