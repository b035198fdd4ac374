"""``python -m bench.stats``: the issue's name for the visit statistics benchmark
(:mod:`bench.visits`)."""

from bench.visits import main

if __name__ == "__main__":
    main()
