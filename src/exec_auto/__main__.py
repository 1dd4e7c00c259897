"""`python -m exec_auto` entry point."""

from exec_auto.cli import entry

if __name__ == "__main__":
    entry()
