"""The arithmetic behind ember.random, split by what it reproduces (see ``ember/random.py``)."""
