"""A spec-driven mock of the Chutes authentication API."""

__version__ = "0.1.0"
