"""The 8base-style GraphQL API: ``core`` (documents, limits, error shapes: shared by HTTP and WebSocket), ``http``
(the app factory and the POST handler), ``subscriptions`` (the WebSocket protocols), over ``store``, ``auth``,
``permissions``, ``resolvers``, ``seed`` and ``events``. It imports nothing from ``idp``; both stand on ``common``."""
