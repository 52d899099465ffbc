"""Build a typeset PDF briefing and an EPUB 3 from a history manuscript."""

__version__ = "0.1.0"
