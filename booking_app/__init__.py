"""The patient booking site: FastAPI routes, Jinja2 templates and the site's own static
files. Start it with ``uvicorn booking_app.main:create_app --factory``."""
