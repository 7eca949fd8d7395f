"""TCM Desktop: structure free-text TCM records beside the tongue photo, offline."""

__version__ = "0.1.0"
