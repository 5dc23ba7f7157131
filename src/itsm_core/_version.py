"""The single source of the itsm_core version."""

__version__ = "0.1.0"
