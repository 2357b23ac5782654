"""The command line: thin commands over the pipeline, one error boundary in :mod:`main`."""
