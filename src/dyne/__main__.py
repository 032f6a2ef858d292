"""``python -m dyne``: the same as the ``dyne`` command."""

from .cli import main

if __name__ == "__main__":
    main()
