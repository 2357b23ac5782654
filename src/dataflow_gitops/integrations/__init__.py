"""CI/CD integrations (a support layer for the CLI): the CI log's dialect and the GitHub REST API.

``ci`` speaks to whichever CI system runs us (GitHub Actions workflow commands, Azure Pipelines
logging commands, the GitHub job summary); ``github`` upserts the sticky pull-request comment.
Neither knows about plans: they take text and errors and hand them on.
"""
