"""``python -m transferability`` runs the command line."""

from transferability.cli.main import main

if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    main()
