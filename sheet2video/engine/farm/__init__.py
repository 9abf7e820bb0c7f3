"""The render farm: the engine's renders on Celery workers (DESIGN §10).

``app`` configures Celery from a broker URL, ``wire`` turns a RenderTask into the JSON a worker
receives (inputs as content-hash keys in object storage), ``executor`` is the engine's side behind
the Executor seam, ``worker`` the worker's side, ``status`` what ``sheet2video farm status`` shows.
"""
