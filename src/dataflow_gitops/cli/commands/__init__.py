"""One module per command; each exposes ``command`` (a click.Command) that calls the core and
returns through ``ctx.exit(code)`` or by raising a DataflowGitopsError."""
