"""The ground floor: vocabulary every layer shares (errors, settings, records, ids, formats, files).

Nothing here imports another module of the project, and nothing here talks to the terminal; the
layers above (extractors, graph, flows, the CLI) import from here, never the other way round.
See docs/architecture.md.
"""
