"""The identity provider: an app factory (``app``) with Auth0's endpoints split by what they do (``authorize``,
``token``, ``account``), over its tenant seed (``seed``), state (``store``, ``refresh``) and token minting
(``tokens``). It imports nothing from ``api``; both stand on ``common``."""
