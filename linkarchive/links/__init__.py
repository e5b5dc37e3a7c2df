"""Operations on a user's links that the API, the CLI, imports and the pipeline share."""
