"""The app that bench/load.py serves: the production app (wsgi.py) plus the issue's reference point, a 50-row list
with no login and no layout, at REFERENCE_PATH. Only for the benchmark's loopback server on generated data: it
shows people's names to anyone, so it never goes into the app itself."""
from flask import Flask, render_template

REFERENCE_PATH = "/_bench/rows"
REFERENCE_ROWS = 50


def reference_app() -> Flask:
    """wsgi.py's app with the reference route (gunicorn: `bench.reference_app:reference_app()`)."""
    from caseapp.access.policy import PUBLIC, requires
    from caseapp.cases.models import Case
    from caseapp.cases.rows import case_rows
    from wsgi import app

    @app.get(REFERENCE_PATH)
    @requires(PUBLIC)
    def reference_rows():
        """The newest 50 cases in the case list's own table (same query, same template), and nothing else."""
        newest = case_rows(None, (Case.opened_at.desc(), Case.id.desc()), REFERENCE_ROWS)
        return render_template("cases/_table.html", cases=newest)

    return app
