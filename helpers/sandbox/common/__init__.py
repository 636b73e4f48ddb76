"""What both servers share: the clock, the signing keys, CORS, request limits, seed files, the data folder and the
background uvicorn server. Nothing here imports ``idp`` or ``api``."""
