"""The command line: parse, call one core function, print; the only part that imports Click.

``main.py`` is the root command; ``options.py`` what the commands share (the settings and
database, the one place errors become exit statuses, options defined once); a module per family
of commands. Each command imports the core modules it calls inside its body: ``inviter --help``
then loads Click alone, not SQLAlchemy, Jinja2 and icalendar (issue 19, start-up).
"""
