"""Databases for dyne applications.

* ``dyne.ext.db.alchemical``: SQLAlchemy 2 (async) through Alchemical: the
  ``Alchemical`` extension, request-scoped sessions (``await req.db``),
  ``CRUDMixin``, ``@db.transaction``, pagination and read-only sessions.
  Needs ``pip install "dyne[sqlalchemy]"``.
* ``dyne.ext.db.cli``: the ``dyne db ...`` migration commands (Alembic), a
  plugin of the ``dyne`` command line that imports nothing heavy until a
  command runs.

Importing this package imports neither SQLAlchemy nor Alembic.
"""
