"""f1pipe serve: the HTTP API, the pages and the live page (the top room: nothing imports it)."""
