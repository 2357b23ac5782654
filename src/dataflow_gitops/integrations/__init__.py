"""CI/CD integrations (a support layer for the CLI): the CI log's dialect, the CI matrix, and
the sticky pull-request comment on GitHub and Azure Repos.

``ci`` speaks to whichever CI system runs us (GitHub Actions workflow commands, Azure Pipelines
logging commands, the GitHub job summary); ``matrix`` lists the environments for a CI fan-out;
``comment_body`` makes and upserts sticky comments, which ``github`` and ``azure_repos`` store.
None of them knows about plans: they take text, errors and settings and hand them on.
"""
