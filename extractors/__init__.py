"""Extractors: text in, deal records out (see ``extractors.records``)."""
