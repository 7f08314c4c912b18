"""Ouroboros: find circular capital flows in the AI industry."""

__version__ = "0.1.0"
