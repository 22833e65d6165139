"""``python -m pilotgate`` is the same as the ``pilotgate`` command."""

from pilotgate._cli import main

if __name__ == "__main__":
    main()
