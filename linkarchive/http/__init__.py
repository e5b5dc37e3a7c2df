"""The HTTP edge: app factory, middlewares, problems, tokens, rate limits, live events, OpenAPI."""
