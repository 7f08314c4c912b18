"""Extractors: text in, deal records out (see ``ouroboros.core.records``)."""
